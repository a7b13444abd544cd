const fs = require('node:fs');
const recs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')).map(r => ({ ...r, e: r.dlib ?? r[process.argv[3] || 'lm1'] })).filter(r => r.e);
const norm = v => { const n = Math.hypot(...v); return v.map(x => x / n); };
recs.forEach(r => r.e = norm(r.e));
const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
const ref = (es) => { const c = norm(es[0].map((_, k) => es.reduce((s, e) => s + e[k], 0))); const sims = []; for (let i = 0; i < es.length; i++) for (let j = i + 1; j < es.length; j++) sims.push(dot(es[i], es[j])); const m = sims.reduce((a, b) => a + b, 0) / sims.length; return { c, n: es.length, m }; };
const score = (e, R) => { const sim = dot(e, R.c) * Math.sqrt((1 + (R.n - 1) * R.m) / R.n); return { sim, rel: sim / R.m }; };
const by = {}; for (const r of recs) (by[r.person] ??= []).push(r);
const gen = [], imp = [];
for (const [p, rs] of Object.entries(by)) {
  if (rs.length >= 3) rs.forEach((probe, i) => { const R = ref(rs.filter((_, j) => j !== i).map(r => r.e)); gen.push({ p, f: probe.file, ...score(probe.e, R), m: R.m }); });
  if (rs.length >= 2) { const R = ref(rs.map(r => r.e)); for (const o of recs) if (o.person !== p) imp.push({ p, o: o.person + '/' + o.file, ...score(o.e, R), m: R.m }); }
}
console.log('genuine probes', gen.length, 'impostor probes', imp.length);
const q = (a, f, p) => { const s = a.map(f).sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
for (const k of ['sim', 'rel']) console.log(k, 'gen min/p2/med', q(gen, x => x[k], 0).toFixed(3), q(gen, x => x[k], .02).toFixed(3), q(gen, x => x[k], .5).toFixed(3), 'imp med/p99/p999/max', q(imp, x => x[k], .5).toFixed(3), q(imp, x => x[k], .99).toFixed(3), q(imp, x => x[k], .999).toFixed(3), q(imp, x => x[k], 1).toFixed(3));
console.log('self mean range', q(gen, x => x.m, 0).toFixed(3), q(gen, x => x.m, 1).toFixed(3));
const [Ts, Tr] = [Number(process.argv[4] || 0.9), Number(process.argv[5] || 0.95)];
const ok = x => x.sim >= Ts && x.rel >= Tr;
console.log(`match sim>=${Ts} rel>=${Tr}: TAR`, (gen.filter(ok).length / gen.length * 100).toFixed(2) + '%', 'FAR', (imp.filter(ok).length / imp.length * 100).toFixed(3) + '%', imp.filter(ok).length);
console.log('worst genuine', gen.sort((a, b) => a.sim - b.sim).slice(0, 4).map(x => `${x.p}/${x.f} ${x.sim.toFixed(3)} ${x.rel.toFixed(3)}`).join(' | '));
console.log('top impostors', imp.sort((a, b) => b.sim - a.sim).slice(0, 5).map(x => `${x.p}<-${x.o} ${x.sim.toFixed(3)} ${x.rel.toFixed(3)}`).join(' | '));
