// Every npm script runs this first. npm puts node_modules/.bin on PATH, where the pinned `node`
// dev dependency provides Node 24; if its install script was skipped, npm silently falls back to
// the system Node, and vitest/fauxqs then fail in confusing ways. Fail loudly instead.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `This project needs Node >= 22, but npm ran ${process.version} (${process.execPath}).\n` +
      'The pinned `node` dev dependency provides Node 24: run `npm install` (with install scripts enabled).',
  );
  process.exit(1);
}
