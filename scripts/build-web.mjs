// Bundles the browser sensor into dist/web (src/web/build.ts; a no-op when nothing changed).
import { buildWeb } from '../dist/src/web/build.js';

const r = await buildWeb();
if (r.built) console.error(`\x1b[1mearmark bootstrap:\x1b[0m browser sensor bundled into ${r.dir} (${r.ms} ms)`);
