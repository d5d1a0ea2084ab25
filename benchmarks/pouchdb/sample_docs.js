// The documents the embedded store's benchmarks load (benchmarks/sample_docs.py makes the same).
'use strict';

function doc(i) {
  return {
    _id: 'doc' + String(i).padStart(7, '0'),
    type: 'type' + (i % 10),
    n: i,
    name: 'name-' + i + '-abcdefghij',
    email: 'user' + i + '@example.com',
    tags: ['t' + (i % 7), 't' + (i % 11)],
    nested: {a: i % 100, b: 'x' + (i % 13)},
    flag: i % 2 === 0,
  };
}

module.exports = {doc};
