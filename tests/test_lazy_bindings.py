"""The jsii kernel loads only the AWS provider submodules a synth uses (awsenvs/lazy_bindings.js).

The preload is checked on a tiny package of the same shape (what is loaded when), on the
installed provider's real index.js (every eager export becomes lazy), and end to end: the
three example organizations synthesize to the same JSON with every binding loaded eagerly,
as plain jsii does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from importlib import util
from pathlib import Path

import pytest

from awsenvs import EAGER_BINDINGS_ENV, LAZY_BINDINGS, load_bindings_lazily
from conftest import EXAMPLE, IDENTITY_CENTER, TWO_PRODUCTS

_IMPORT_STAR = """var __importStar = function (mod) {
    if (mod && mod.__esModule) return mod;
    var result = {}; for (var k in mod) result[k] = mod[k]; result["default"] = mod; return result;
};
"""


def _node(script: str, cwd: Path, preload: bool = True) -> dict:
    args = ["node", *(["--require", str(LAZY_BINDINGS)] if preload else []), "-e", script]
    env = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _fake_provider(root: Path) -> Path:
    """node_modules/@cdktn/provider-aws laid out like the real one: an index.js that
    requires two submodules eagerly, each recording when it is loaded."""
    lib = root / "node_modules" / "@cdktn" / "provider-aws" / "lib"
    for name, folder in (("IamUser", "iam-user"), ("S3Bucket", "s3-bucket")):
        (lib / folder).mkdir(parents=True)
        (lib / folder / "index.js").write_text(
            f'"use strict";\nObject.defineProperty(exports, "__esModule", {{ value: true }});\n'
            f'(globalThis.loaded = globalThis.loaded || []).push("{folder}");\n'
            f'class {name} {{}}\nexports.{name} = {name};\n')
    (lib / "index.js").write_text(
        '"use strict";\n' + _IMPORT_STAR + 'Object.defineProperty(exports, "__esModule", { value: true });\n'
        'exports.s3Bucket = exports.iamUser = void 0;\n'
        'exports.iamUser = __importStar(require("./iam-user/index"));\n'
        'exports.s3Bucket = __importStar(require("./s3-bucket/index"));\n')
    (lib.parent / "package.json").write_text('{"name": "@cdktn/provider-aws", "main": "lib/index.js"}')
    return lib


_LOAD_THEN_READ = """
const pkg = require("@cdktn/provider-aws");
const atLoad = [...(globalThis.loaded || [])];
const first = pkg.iamUser.IamUser, second = pkg.iamUser.IamUser;
console.log(JSON.stringify({atLoad, afterRead: globalThis.loaded, same: first === second,
  name: first.name, keys: Object.keys(pkg).sort()}));
"""


def test_the_preload_loads_a_submodule_when_it_is_first_read(tmp_path):
    _fake_provider(tmp_path)
    lazy = _node(_LOAD_THEN_READ, tmp_path)
    assert lazy["atLoad"] == [] and lazy["afterRead"] == ["iam-user"]
    assert lazy["same"] and lazy["name"] == "IamUser"
    eager = _node(_LOAD_THEN_READ, tmp_path, preload=False)  # the same package as it is
    assert eager["atLoad"] == ["iam-user", "s3-bucket"]
    assert lazy["keys"] == eager["keys"] == ["iamUser", "s3Bucket"]


def test_the_preload_leaves_other_files_alone(tmp_path):
    lib = _fake_provider(tmp_path)
    (lib.parent / "package.json").write_text('{"name": "@cdktn/provider-aws", "main": "lib/main.js"}')
    (lib / "index.js").rename(lib / "main.js")  # same lines, another file: compiled as written
    assert _node(_LOAD_THEN_READ, tmp_path)["atLoad"] == ["iam-user", "s3-bucket"]


def test_every_export_of_the_installed_provider_index_becomes_lazy(tmp_path):
    """The real lib/index.js of the installed binding (from its jsii tarball) matches the
    pattern the preload rewrites: no submodule is required at load any more."""
    [tarball] = (Path(util.find_spec("cdktn_provider_aws").origin).parent / "_jsii").glob("*.jsii.tgz")
    with tarfile.open(tarball) as archive:
        source = archive.extractfile("package/lib/index.js").read().decode()
    (tmp_path / "index.js").write_text(source)
    counts = _node(
        f"const {{ lazyExports }} = require({json.dumps(str(LAZY_BINDINGS))});\n"
        "const before = require('fs').readFileSync('index.js', 'utf8'), after = lazyExports(before);\n"
        "const requires = s => (s.match(/require\\(/g) || []).length;\n"
        "console.log(JSON.stringify({before: requires(before), eagerAfter: (after.match(/^exports\\.\\w+ = __importStar/gm) || []).length,"
        " getters: (after.match(/get: function \\(\\) \\{ return __importStar\\(require\\(/g) || []).length}));",
        tmp_path, preload=False)
    assert counts["before"] > 2000  # every resource of the provider
    assert counts["eagerAfter"] == 0 and counts["getters"] == counts["before"]


def test_lazy_and_eager_loading_synthesize_the_same_json(synthesized, tmp_path):
    assert str(LAZY_BINDINGS) in os.environ.get("NODE_OPTIONS", "")  # the session's synth was lazy
    script = (
        "import sys; from pathlib import Path\n"
        "from awsenvs import config; from awsenvs.synth import synthesize\n"
        "for name, path in zip(sys.argv[2::2], sys.argv[3::2]):\n"
        "    out = Path(sys.argv[1]) / name; synthesize(config.load(Path(path)), out, state_dir=out / 'state')\n")
    orgs = {"example": EXAMPLE, "two": TWO_PRODUCTS, "identity_center": IDENTITY_CENTER}
    env = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    env[EAGER_BINDINGS_ENV] = "1"
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path), *(str(x) for kv in orgs.items() for x in kv)],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in orgs:
        lazy = synthesized[name]
        for stack, document in lazy.stacks.items():
            eager = json.loads((tmp_path / name / "stacks" / stack / "cdk.tf.json").read_text())
            # Local backend paths are relative to each outdir, so the documents compare whole.
            assert eager == document, f"{name}/{stack}"


@pytest.mark.parametrize("before, after", [
    ({}, f'--require "{LAZY_BINDINGS}"'),
    ({"NODE_OPTIONS": "--max-old-space-size=8192"}, f'--max-old-space-size=8192 --require "{LAZY_BINDINGS}"'),
    ({"NODE_OPTIONS": f'--require "{LAZY_BINDINGS}"'}, f'--require "{LAZY_BINDINGS}"'),  # never twice
    ({EAGER_BINDINGS_ENV: "1"}, None),  # the way back to plain jsii loading
])
def test_node_options_gain_the_preload_once(before, after):
    environ = dict(before)
    load_bindings_lazily(environ)
    assert environ.get("NODE_OPTIONS") == after
