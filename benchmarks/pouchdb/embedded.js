// PouchDB 9 (leveldb) doing what benchmarks/embedded.py times on the embedded store.
//   node embedded.js DOCS DIR   ->  one JSON line: seconds (wall) and CPU seconds per operation
'use strict';
const PouchDB = require('pouchdb');
const {doc} = require('./sample_docs');

const count = parseInt(process.argv[2] || '100000', 10);
const dir = process.argv[3] || '/tmp/pouch-embedded-bench';
const gets = Math.min(10000, count);

function hex(i) {
  return String(i.toString(16)).padStart(32, '0');
}

async function timed(result, name, fn) {
  const t = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(cpu);
  result[name + '_s'] = Number(process.hrtime.bigint() - t) / 1e9;
  result[name + '_cpu_s'] = (used.user + used.system) / 1e6;
}

// Adds one call's wall and CPU time to `name` (the documents are built outside it).
async function call(result, name, fn) {
  const t = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(cpu);
  result[name + '_s'] = (result[name + '_s'] || 0) + Number(process.hrtime.bigint() - t) / 1e9;
  result[name + '_cpu_s'] = (result[name + '_cpu_s'] || 0) + (used.user + used.system) / 1e6;
}

function randomIds() {
  let seed = 12345;
  const ids = [];
  for (let k = 0; k < gets; k++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    ids.push(doc(seed % count)._id);
  }
  return ids;
}

async function main() {
  const result = {docs: count, gets};
  const db = new PouchDB(dir + '/bulk');
  await timed(result, 'bulk_docs', async () => {
    for (let start = 0; start < count; start += 1000) {
      const docs = [];
      for (let i = start; i < Math.min(count, start + 1000); i++) docs.push(doc(i));
      await call(result, 'bulk_docs_calls', () => db.bulkDocs(docs));
    }
  });
  const replica = new PouchDB(dir + '/replica');
  await timed(result, 'new_edits_false', async () => {
    for (let start = 0; start < count; start += 1000) {
      const docs = [];
      for (let i = start; i < Math.min(count, start + 1000); i++) docs.push({...doc(i), _rev: '1-' + hex(i + 1)});
      await call(result, 'new_edits_false_calls', () => replica.bulkDocs(docs, {new_edits: false}));
    }
  });
  const ids = randomIds();
  await timed(result, 'get', async () => {
    for (const id of ids) await db.get(id);
  });
  await timed(result, 'all_docs', async () => {
    const rows = (await db.allDocs({include_docs: true})).rows;
    if (rows.length !== count) throw new Error('all_docs: ' + rows.length);
  });
  await timed(result, 'changes', async () => {
    const changes = (await db.changes({since: 0})).results;
    if (changes.length !== count) throw new Error('changes: ' + changes.length);
  });
  await timed(result, 'changes_docs', async () => {
    const changes = (await db.changes({since: 0, include_docs: true})).results;
    if (changes.length !== count) throw new Error('changes: ' + changes.length);
  });
  console.log(JSON.stringify(result));
}

main().catch((err) => { console.error(err); process.exit(1); });
