// Runs an ONNX model in ONNX Runtime (onnxruntime-node) on a raw float32 input file and writes
// the raw float32 outputs: how the tests check exported models in a real runtime.
// usage: node scripts/onnxruntime-node/run.js MODEL.onnx INPUT.f32 N C H W OUTPUT.f32
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inFile, n, c, h, w, outFile] = process.argv.slice(2);
  if (!outFile) {
    console.error('usage: node run.js MODEL.onnx INPUT.f32 N C H W OUTPUT.f32');
    process.exit(2);
  }
  const [N, C, H, W] = [n, c, h, w].map(Number);
  const buf = fs.readFileSync(inFile);
  const input = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  if (input.length !== N * C * H * W) throw new Error(`${inFile}: ${input.length} floats, expected ${N * C * H * W}`);
  const session = await ort.InferenceSession.create(model, {executionProviders: ['cpu'], intraOpNumThreads: 1});
  const chunks = [];
  const per = C * H * W;
  for (let s = 0; s < N; s += 500) {
    const m = Math.min(500, N - s);
    const x = new ort.Tensor('float32', input.slice(s * per, (s + m) * per), [m, C, H, W]);
    const out = await session.run({[session.inputNames[0]]: x});
    chunks.push(Buffer.from(out[session.outputNames[0]].data.buffer.slice(0)));
  }
  fs.writeFileSync(outFile, Buffer.concat(chunks));
  console.log(`onnxruntime ${ort.env.versions.common}: ${N} inputs through ${model}`);
}
main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
