#!/usr/bin/env node
// The `stepwise` command: a shim over the compiled CLI in dist/ (built by `npm run build`).
const cli = await import('../dist/surfaces/cli/main.js').catch((e) => {
  console.error(
    `stepwise: cannot load the compiled CLI (run \`npm run build\`): ${String(e.message).split('\n')[0]}`,
  );
  process.exit(2);
});

// exitCode rather than process.exit() so that piped stdout is flushed first.
process.exitCode = await cli.main(process.argv.slice(2));
