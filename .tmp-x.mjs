import ivm from 'isolated-vm';
for (const [to, disp] of [[200, 250], [200, 250]]) {
  const iso = new ivm.Isolate({ memoryLimit: 64 });
  const ctx = await iso.createContext();
  const ref = await ctx.eval("(function(){ return BigInt('1'.repeat(6e6)) > 0n })", { reference: true });
  const t0 = performance.now();
  const p = ref.apply(undefined, [], to ? { timeout: to } : {});
  if (disp) setTimeout(() => { const a = performance.now(); iso.dispose(); console.log(' dispose at', (performance.now()-t0).toFixed(1)); }, disp);
  try { const r = await p; console.log(to, disp, 'resolved', r, (performance.now()-t0).toFixed(0)); }
  catch (e) { console.log(to, disp, 'rejected', e.message, (performance.now()-t0).toFixed(0)); }
  if (!iso.isDisposed) iso.dispose();
}
