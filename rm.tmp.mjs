import { Core, unwrap } from './dist/index.js';
import { resolve } from './dist/core/resolve.js';
const K4 = 4096;
function populated(n) {
  const core = new Core({ arch: 'x86_64', ram: [{ base: 2 ** 30, size: 2 ** 30 }] });
  const app = unwrap(core.createPd('init -> bench', { ram: 2 ** 40, caps: 1e9 }));
  const t = unwrap(core.createThread(app, 'main'));
  const ds = unwrap(core.allocRam(app, 64 * 2 ** 20));
  const base = 2 ** 32;
  for (let i = 0; i < n; i++) unwrap(app.addressSpace.attach(ds, { at: base + i * 2 * K4, offset: (i % 16384) * K4, size: K4 }));
  return { core, app, t, ds, base };
}
function lcg(seed) { let s = seed >>> 0; return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; }; }
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (const n of [1000, 1000000]) {
  const { core, app, t, base } = populated(n);
  const rnd = lcg(42); const B = 10000; const a = new Float64Array(B);
  for (let i = 0; i < B; i++) a[i] = base + Math.floor(rnd() * n) * 2 * K4 + 8;
  const space = app.addressSpace;
  for (const [name, fn] of [
    ['lookup', () => { let s = 0; for (let i = 0; i < B; i++) s += space.lookup(a[i]).base; return s; }],
    ['pageFault', () => { for (let i = 0; i < B; i++) core.pageFault(t, a[i], 'read'); }],
  ]) {
    for (let w = 0; w < 20; w++) fn();
    const t0 = cpu(); const R = 100; for (let r = 0; r < R; r++) fn();
    console.log(n, name, ((cpu() - t0) * 1e6 / (R * B)).toFixed(0), 'ns');
  }
}
// direct walk
function direct(tree, addr) {
  let node = tree._root;
  for (;;) {
    const keys = node.keys;
    let lo = 0, hi = keys.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (keys[mid] < addr) lo = mid + 1; else hi = mid; }
    if (node.children !== undefined) {
      if (lo >= keys.length) lo = keys.length - 1; // addr beyond max: last child
      node = node.children[lo];
      continue;
    }
    // leaf: lo = first index with key >= addr
    if (lo < keys.length && keys[lo] === addr) return node.values[lo];
    return lo > 0 ? node.values[lo - 1] : null; // (cross-leaf lower not handled in experiment)
  }
}
for (const n of [1000, 1000000]) {
  const { app, base } = populated(n);
  const rnd = lcg(42); const B = 10000; const a = new Float64Array(B);
  for (let i = 0; i < B; i++) a[i] = base + Math.floor(rnd() * n) * 2 * K4 + 8;
  const tree = app.addressSpace.index;
  const fn = () => { let s = 0; for (let i = 0; i < B; i++) { const r = direct(tree, a[i]); s += r ? r.base : 0; } return s; };
  const ref = () => { let s = 0; for (let i = 0; i < B; i++) s += app.addressSpace.lookup(a[i]).base; return s; };
  console.log('check', fn() === ref());
  for (let w = 0; w < 20; w++) fn();
  const t0 = cpu(); const R = 100; for (let r = 0; r < R; r++) fn();
  console.log(n, 'direct', ((cpu() - t0) * 1e6 / (R * B)).toFixed(0), 'ns');
}
