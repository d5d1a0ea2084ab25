// PouchDB 9 (leveldb) doing what benchmarks/query_side.py times on the embedded store:
// a view build of emit(doc.type, 1), and a one-field Mango index build plus the first find.
//   node query_side.js DOCS DIR   ->  one JSON line of seconds
'use strict';
const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-find'));
const {doc} = require('./sample_docs');

const count = parseInt(process.argv[2] || '100000', 10);
const dir = process.argv[3] || '/tmp/pouch-bench';

function seconds(usage) {
  return (usage.user + usage.system) / 1e6;
}

async function load(db) {
  for (let start = 0; start < count; start += 1000) {
    const docs = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) docs.push(doc(i));
    await db.bulkDocs(docs);
  }
}

async function main() {
  const views = new PouchDB(dir + '/views');
  await load(views);
  await views.put({_id: '_design/d', views: {by_type: {map: 'function (doc) { emit(doc.type, 1); }'}}});
  let t = process.hrtime.bigint();
  let cpu = process.cpuUsage();
  await views.query('d/by_type', {limit: 1});
  const viewBuild = Number(process.hrtime.bigint() - t) / 1e9;
  const viewCpu = seconds(process.cpuUsage(cpu));

  const mango = new PouchDB(dir + '/mango');
  await load(mango);
  t = process.hrtime.bigint();
  cpu = process.cpuUsage();
  await mango.createIndex({index: {fields: ['type']}});
  await mango.find({selector: {type: 'type3'}, limit: 1});
  const mangoBuild = Number(process.hrtime.bigint() - t) / 1e9;
  const mangoCpu = seconds(process.cpuUsage(cpu));
  console.log(JSON.stringify({
    docs: count,
    view_build_s: viewBuild,
    view_build_cpu_s: viewCpu,
    mango_index_and_find_s: mangoBuild,
    mango_index_and_find_cpu_s: mangoCpu,
  }));
}

main().catch((err) => { console.error(err); process.exit(1); });
