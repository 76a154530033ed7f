// Preloaded into jsii's Node processes (NODE_OPTIONS=--require) by fastsynth/lazy_providers.py.
// A prebuilt provider's lib/index.js requires all of its submodules (2,212 for AWS); this
// compiles that one file with each `exports.x = require("./x")` turned into a getter that
// requires the submodule on first use. Files on disk are not changed; nothing else is touched.
"use strict";
const Module = require("module");
const fs = require("fs");

const EAGER = /^exports\.(\w+) = require\("(\.\/[\w-]+)"\);$/gm;
const LAZY = 'Object.defineProperty(exports, "$1", { enumerable: true, configurable: true, ' +
  'get: function () { return require("$2"); } });';
const PROVIDER_INDEX = new RegExp(`[\\\\/]@cdktf[\\\\/]provider-[\\w-]+[\\\\/](?:[^\\\\/]+[\\\\/])*lib[\\\\/]index\\.js$`);
const compileJs = Module._extensions[".js"];

Module._extensions[".js"] = function (module, filename) {
  if (PROVIDER_INDEX.test(filename)) {
    module._compile(fs.readFileSync(filename, "utf8").replace(EAGER, LAZY), filename);
    return;
  }
  compileJs(module, filename);
};
module.exports = { PROVIDER_INDEX };
