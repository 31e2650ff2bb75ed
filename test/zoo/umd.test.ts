// bench/zoo/umd.ts reads model files shipped as browserify UMD bundles as data: the literal
// assigned to module.exports is taken from the syntax tree, and anything that is not a plain
// literal is refused (the bundle is never executed).
import { describe, expect, it } from 'vitest';
import { umdExport, umdModelJson, umdShardBytes } from '../../bench/zoo/umd.js';

const wrap = (body: string) =>
  `!function(e){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=e();else{(this).model=e()}}(function(){return function e(a,n,i){return a}({1:[function(e,a,n){${body}},{}]},{},[1])(1)});`;

describe('UMD-wrapped model files', () => {
  it('reads a minified model.json literal: unquoted keys, !0/!1 booleans, .5 and -1e-3 numbers', () => {
    const json = umdModelJson(
      wrap(
        'a.exports={format:"graph-model",modelTopology:{node:[{name:"x",op:"Placeholder"}]},weightsManifest:[{paths:["group1-shard1of1"],weights:[{name:"w",shape:[2],dtype:"float32",quantization:{min:-1e-3,scale:.5}}]}],flag:!0,off:!1}',
      ),
      'model.min.js',
    );
    expect(json).toEqual({
      format: 'graph-model',
      modelTopology: { node: [{ name: 'x', op: 'Placeholder' }] },
      weightsManifest: [
        {
          paths: ['group1-shard1of1'],
          weights: [{ name: 'w', shape: [2], dtype: 'float32', quantization: { min: -0.001, scale: 0.5 } }],
        },
      ],
      flag: true,
      off: false,
    });
  });

  it('decodes a base64 shard to its bytes', () => {
    expect([...umdShardBytes(wrap('a.exports="AAECA/8="'), 'shard.min.js')]).toEqual([0, 1, 2, 3, 255]);
  });

  it.each([
    ['a call', 'a.exports=require("child_process").execSync("id")'],
    ['a function', 'a.exports=function(){return 1}'],
    ['a computed key', 'a.exports={["k"+1]:2}'],
    ['an identifier value', 'a.exports={k:process}'],
  ])('refuses %s instead of evaluating it', (_what, body) => {
    expect(() => umdExport(wrap(body), 'bad.min.js')).toThrow(/bad\.min\.js/);
  });

  it('refuses a model file whose export is not a model.json, and a shard that is not base64', () => {
    expect(() => umdModelJson(wrap('a.exports={a:1}'), 'm.js')).toThrow(/not a TF.js model.json/);
    expect(() => umdShardBytes(wrap('a.exports="not base64!"'), 's.js')).toThrow(/not a base64 string/);
  });
});
