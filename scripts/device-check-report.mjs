// scripts/device-check.sh's last step: gather what the check wrote into $DC_OUT (probe.json, the TAP
// files, step.json, fig4's report and log) and the stage exit codes from DC_* into device-check.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const e = process.env;
const o = e.DC_OUT;
const read = (f) => (existsSync(`${o}/${f}`) ? readFileSync(`${o}/${f}`, 'utf8') : '');
const json = (f) => {
  try {
    return JSON.parse(read(f));
  } catch {
    return null;
  }
};
const tap = (f) => {
  const text = read(f);
  const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  const failed = [...text.matchAll(/^not ok \d+ - (.*)$/gm)].map((m) => m[1]);
  return { tests: count('tests'), pass: count('pass'), fail: count('fail'), skipped: count('skipped'), failed };
};
const flag = e.DC_FIG4_FLAG === 'true';
const report = json('fig4-report.json');
const result = {
  commit: existsSync('.device-check-commit') ? readFileSync('.device-check-commit', 'utf8').trim() : null,
  node: process.version,
  torch: e.DC_TORCH || null,
  libtorch: e.DC_LIBTORCH,
  addon: json('probe.json'),
  device: e.DC_DEVICE,
  buildSeconds: Number(e.DC_BUILD_S),
  tests: {
    device: { device: e.DC_DEVICE, exit: Number(e.DC_TDEV), ...tap(`tests-${e.DC_DEVICE}.tap`) },
    cpuEngine: { exit: Number(e.DC_TCPU), ...tap('tests-cpu-engine.tap') },
  },
  optinStep: { exit: Number(e.DC_STEP), ...(json('step.json') ?? { error: read('step.log').slice(-2000) }) },
  fig4: {
    preset: e.DC_FIG4_PRESET,
    command: `earmark experiment fig4 --preset ${e.DC_FIG4_PRESET} --config one-epoch.json${flag ? ` --device ${e.DC_DEVICE}` : ''}`,
    deviceFlag: flag,
    exit: e.DC_FIG4,
    seconds: Number(e.DC_FIG4_S),
    reportKeys: report ? Object.keys(report) : null,
    logTail: read('fig4.log').slice(-1500),
  },
  seconds: Number(e.DC_SECONDS),
};
writeFileSync(`${o}/device-check.json`, `${JSON.stringify(result, null, 1)}\n`);
const { tests, optinStep, fig4 } = result;
console.log(JSON.stringify({ tests, optinStep, fig4: { exit: fig4.exit, seconds: fig4.seconds } }));
