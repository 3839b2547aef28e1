// Preloaded into the jsii kernel, the node process that runs the CDK Terrain bindings
// (NODE_OPTIONS=--require, set by awsenvs/__init__.py before any binding is imported).
//
// Why: the kernel loads a package by requiring its entry point, and the AWS provider's
// lib/index.js requires all of its ~2,400 resource submodules up front: ~280 MB of
// JavaScript that node compiles on every synth (about 4 s on a 2-core machine, whatever
// the synth builds), where awsenvs uses about 30 of them.  As node compiles that one
// file, each `exports.x = __importStar(require("./x/index"));` line becomes a getter that
// requires its submodule the first time it is read; the kernel finds a type by walking
// the package's exports (`exports.iamUser.IamUser`), so it loads what a synth uses.  The
// values are the same objects (require caches each module, and __importStar returns an
// ES module as it is); only when they are loaded changes.  A file without such lines
// (another layout, a later release) is compiled unchanged: slower, never different; so is
// any call whose arguments are not the (source, filename) strings node passes today.
'use strict';

const Module = require('module');

const PROVIDER_INDEX = /[\\/]@cdktn[\\/]provider-aws[\\/]lib[\\/]index\.js$/;
const EAGER_EXPORT = /^exports\.([A-Za-z_$][\w$]*) = __importStar\(require\(("\.\/[\w.-]+\/index")\)\);$/gm;

function lazyExports(source) {
  return source.replace(EAGER_EXPORT, (line, name, path) =>
    `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, configurable: true, ` +
    `get: function () { return __importStar(require(${path})); } });`);
}

const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename, ...rest) {
  const lazy = typeof content === 'string' && typeof filename === 'string' && PROVIDER_INDEX.test(filename);
  return compile.call(this, lazy ? lazyExports(content) : content, filename, ...rest);
};

module.exports = { lazyExports };
