// Preloaded into the jsii kernel, the node process that runs the CDK Terrain bindings
// (NODE_OPTIONS=--require, set by awsenvs/__init__.py before any binding is imported).
//
// Why: the kernel is a child of the awsenvs process, in its process group, so a Ctrl-C at
// the terminal reaches it too, and node's default for SIGINT is to exit at once.  The
// Python side then finds its pipe to the kernel closed, and prints a BrokenPipeError
// traceback while it exits (jsii's atexit hook writes its goodbye to the dead kernel) and
// leaves its runtime's temporary folder behind.  The kernel has nothing to save or stop:
// it ignores SIGINT here and ends when awsenvs closes its stdin, as on every normal exit.
// (Node resets inherited signal dispositions when it starts, so the parent cannot do this.)
'use strict';

process.on('SIGINT', () => {});
