function hotJsFunction(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i) * 1.0001; return s; }
const end = Date.now() + 1000 * parseFloat(process.argv[2] || '2'); let t = 0;
while (Date.now() < end) t += hotJsFunction(100000);
console.log(t > 0);
