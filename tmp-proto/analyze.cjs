const fs = require('node:fs');
const recs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const cos = (a, b) => { let d = 0, na = 0, nb = 0; for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; } return d / Math.sqrt(na * nb); };
const eucl = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2; return Math.sqrt(s); };
function stats(key, sim) {
  const rs = recs.filter(r => r[key]);
  const gen = [], imp = [];
  for (let i = 0; i < rs.length; i++) for (let j = i + 1; j < rs.length; j++) (rs[i].person === rs[j].person ? gen : imp).push(sim(rs[i][key], rs[j][key]));
  gen.sort((a, b) => a - b); imp.sort((a, b) => a - b);
  // EER
  let best = { d: 9 }; for (const t of [...gen, ...imp]) { const frr = gen.filter(g => g < t).length / gen.length, far = imp.filter(x => x >= t).length / imp.length; if (Math.abs(frr - far) < best.d) best = { d: Math.abs(frr - far), t, eer: (frr + far) / 2 }; }
  const q = (a, p) => a[Math.min(a.length - 1, Math.floor(p * a.length))];
  const tarAt = (far) => { const t = imp[Math.min(imp.length - 1, Math.ceil((1 - far) * imp.length))] + 1e-9; return { t: +t.toFixed(3), tar: +(gen.filter(g => g >= t).length / gen.length).toFixed(3) }; };
  console.log(key.padEnd(8), 'n', rs.length, 'gen', gen.length, 'imp', imp.length, 'EER', (best.eer * 100).toFixed(2) + '% @', best.t.toFixed(3),
    '| gen min/p2/p10/med', gen[0].toFixed(3), q(gen, .02).toFixed(3), q(gen, .1).toFixed(3), q(gen, .5).toFixed(3), '| imp med/p99/max', q(imp, .5).toFixed(3), q(imp, .99).toFixed(3), imp[imp.length - 1].toFixed(3), '| TAR@FAR0', JSON.stringify(tarAt(0)), 'TAR@1%', JSON.stringify(tarAt(0.01)));
}
for (const k of process.argv.slice(3)) stats(k, cos);
