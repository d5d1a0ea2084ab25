// PouchDB 9 on Node, replicating as benchmarks/replication.py asks; prints one JSON line.
//
//   node pouchdb_replicate.js MODE SOURCE TARGET BATCH_SIZE [FILL]
//
// MODE: remote (http -> http), pull (http -> leveldb), push (leveldb -> http), local (leveldb -> leveldb).
// A leveldb SOURCE is first filled with FILL documents like the Python side's (not timed).
// The timed part is PouchDB.replicate(source, target, {batch_size}) and, after it, a second run
// that finds nothing to do (the no-op re-run).
"use strict";
const PouchDB = require("pouchdb");

function pad(n) {
  return String(n).padStart(6, "0");
}

async function fill(db, count) {
  for (let start = 0; start < count; start += 5000) {
    const docs = [];
    for (let n = start; n < Math.min(count, start + 5000); n++) {
      docs.push({ _id: "doc" + pad(n), n: n, type: "item", pad: "x".repeat(150) });
    }
    await db.bulkDocs(docs);
  }
}

function rss() {
  return process.memoryUsage().rss;
}

async function main() {
  const [mode, sourceName, targetName, batchSize, fillCount] = process.argv.slice(2);
  const source = new PouchDB(sourceName);
  const target = new PouchDB(targetName);
  if (mode === "push" || mode === "local") {
    await fill(source, Number(fillCount));
  }
  const options = { batch_size: Number(batchSize) };
  let peak = rss();
  const before = peak;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 50);
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const result = await PouchDB.replicate(source, target, options);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const again = process.hrtime.bigint();
  await PouchDB.replicate(source, target, options);
  const noop = Number(process.hrtime.bigint() - again) / 1e9;
  clearInterval(sampler);
  peak = Math.max(peak, rss());
  console.log(
    JSON.stringify({
      seconds: seconds,
      cpu_seconds: (used.user + used.system) / 1e6,
      docs_written: result.docs_written,
      noop_seconds: noop,
      rss_growth: peak - before,
    })
  );
  if (mode === "pull" || mode === "local") {
    await target.destroy();
  }
  if (mode === "push" || mode === "local") {
    await source.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
