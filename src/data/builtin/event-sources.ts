// Where the soundscape corpus's sound events come from: Debian's game and desktop data packages,
// fetched with `apt-get download` and unpacked with `dpkg-deb -x` into a cache folder (never installed:
// no dependencies, no maintainer scripts), and a checked-in table from file names to event classes.
// Source: specs/data-sources.md §3.2 and §7 (scorched3d-data plus sound-theme-freedesktop, 32 MB).
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { EarmarkError } from '../../errors.js';
import { listFiles, sha256File } from './files.js';
import { runTool, type ToolCommands } from './tools.js';

export interface EventClassSpec {
  /** Class name (labels.csv `event`). */
  name: string;
  /** The Debian data package holding the recordings. */
  package: string;
  /** Matches the recordings' paths inside the unpacked package. */
  pattern: RegExp;
}

const S3D = 'usr/share/games/scorched3d/data/globalmods';

/** The 12 event classes (index order = labels.csv `event_index`). Licences: see the packages' copyright files. */
export const EVENT_CLASSES: readonly EventClassSpec[] = [
  { name: 'dog', package: 'scorched3d-data', pattern: new RegExp(`^${S3D}/\\w+/data/wav/misc/dog\\d?\\.wav$`) },
  {
    name: 'bird',
    package: 'scorched3d-data',
    pattern: new RegExp(`^${S3D}/\\w+/data/wav/misc/(birdchirp\\d|birds\\d)\\.wav$`),
  },
  {
    name: 'farm_animal',
    package: 'scorched3d-data',
    pattern: new RegExp(`^${S3D}/\\w+/data/wav/misc/(cows|moo|sheep|rooster)\\.wav$`),
  },
  {
    name: 'thunder',
    package: 'scorched3d-data',
    pattern: new RegExp(`^${S3D}/\\w+/data/wav/(misc/thunder\\d?|explosions/thunder)\\.wav$`),
  },
  { name: 'car_horn', package: 'scorched3d-data', pattern: new RegExp(`^${S3D}/\\w+/data/wav/misc/carhorn\\d\\.wav$`) },
  {
    name: 'siren',
    package: 'scorched3d-data',
    pattern: new RegExp(`^${S3D}/\\w+/data/wav/misc/(policecar|firetruck)\\.wav$`),
  },
  {
    name: 'aircraft',
    package: 'scorched3d-data',
    pattern: new RegExp(`^${S3D}/\\w+/data/wav/misc/(apache_1|helicopter|cessna|jet|f16_\\d|f18_\\d|t38)\\.wav$`),
  },
  {
    name: 'gun_shot',
    package: 'scorched3d-data',
    pattern: new RegExp(`^${S3D}/\\w+/data/wav/shoot/(machinegun|shotgun|tripleshot)\\.wav$`),
  },
  {
    name: 'explosion',
    package: 'scorched3d-data',
    pattern: new RegExp(`^${S3D}/none/data/wav/explosions/(small|medium|large|xlarge|tank)\\.wav$`),
  },
  {
    name: 'scream',
    package: 'scorched3d-data',
    pattern: new RegExp(`^${S3D}/\\w+/data/wav/misc/(scream\\d|screaming)\\.wav$`),
  },
  {
    name: 'water',
    package: 'scorched3d-data',
    pattern: new RegExp(`^${S3D}/\\w+/data/wav/misc/(rain|oceanwaves|splash)\\.wav$`),
  },
  {
    name: 'ring',
    package: 'sound-theme-freedesktop',
    pattern:
      /^usr\/share\/sounds\/freedesktop\/stereo\/(phone-incoming-call|phone-outgoing-calling|phone-outgoing-busy|alarm-clock-elapsed)\.oga$/,
  },
];

export interface UnpackedPackage {
  package: string;
  version: string;
  /** sha256 of the .deb ('' for a local source folder). */
  debSha256: string;
  /** The folder the package was unpacked into (holds `usr/…`). */
  root: string;
}

/**
 * Download (once) and unpack (once) a Debian package into `<cache>/debs` and `<cache>/unpacked`.
 * @example const p = await fetchDebPackage('scorched3d-data', '.earmark-cache', tools);
 */
export async function fetchDebPackage(pkg: string, cache: string, tools: ToolCommands): Promise<UnpackedPackage> {
  const debs = path.join(cache, 'debs');
  await mkdir(debs, { recursive: true });
  const find = async (): Promise<string | undefined> =>
    (await readdir(debs))
      .filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'))
      .sort()
      .at(-1);
  let deb = await find();
  if (deb === undefined) {
    try {
      await runTool('aptGet', tools.aptGet, ['download', pkg], { cwd: debs });
    } catch (e) {
      throw new EarmarkError(
        'EARMARK_IO',
        `could not download the Debian package '${pkg}' with \`apt-get download ${pkg}\` in ${debs}. ` +
          `It needs the Debian archive (run \`apt-get update\` first); offline, copy ${pkg}_*.deb into ${debs}.\n  ${(e as Error).message}`,
        { cause: e },
      );
    }
    deb = await find();
    if (deb === undefined)
      throw new EarmarkError('EARMARK_IO', `\`apt-get download ${pkg}\` left no ${pkg}_*.deb in ${debs}`);
  }
  const version = decodeURIComponent(deb.slice(pkg.length + 1).replace(/_[^_]+\.deb$/, ''));
  const root = path.join(cache, 'unpacked', `${pkg}_${version.replace(/[^\w.+-]/g, '_')}`);
  if (!existsSync(root)) {
    const tmp = `${root}.partial`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    await runTool('dpkgDeb', tools.dpkgDeb, ['-x', path.join(debs, deb), tmp]);
    await rename(tmp, root);
  }
  return { package: pkg, version, debSha256: await sha256File(path.join(debs, deb)), root };
}

export interface EventSource {
  class: string;
  package: string;
  /** Path inside the package. */
  file: string;
  /** Absolute path on disk. */
  abs: string;
  sha256: string;
}

/**
 * The recordings of each class, sorted by path, with byte-identical duplicates dropped (the packages
 * ship some files twice under different mods).
 */
export async function findEventSources(
  classes: readonly EventClassSpec[],
  roots: ReadonlyMap<string, string>,
): Promise<Map<string, EventSource[]>> {
  const listing = new Map<string, string[]>();
  const out = new Map<string, EventSource[]>();
  for (const cls of classes) {
    const root = roots.get(cls.package)!;
    if (!listing.has(cls.package)) listing.set(cls.package, existsSync(root) ? await listFiles(root) : []);
    const seen = new Set<string>();
    const sources: EventSource[] = [];
    for (const file of listing.get(cls.package)!.filter((f) => cls.pattern.test(f))) {
      const abs = path.join(root, file);
      const sha256 = await sha256File(abs);
      if (seen.has(sha256)) continue;
      seen.add(sha256);
      sources.push({ class: cls.name, package: cls.package, file, abs, sha256 });
    }
    if (sources.length === 0) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `event class '${cls.name}': no recordings match ${cls.pattern} in ${root} (package ${cls.package}); is the unpacked package complete?`,
      );
    }
    out.set(cls.name, sources);
  }
  return out;
}
