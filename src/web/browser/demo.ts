// The demo app served by `earmark web`: an ordinary web app on its own origin that uses createSensor
// exactly as docs/web.md shows (the sensor embedded, or with ?mode=window in its own window). It draws the
// obfuscated frames it receives, plays the obfuscated PCM, and shows how late each frame arrives here.
// What it holds is exposed as window.earmarkDemo (for the tests, which check that nothing in it is the
// microphone's input).
import {
  createSensor,
  type Sensor,
  type SensorFrames,
  type SensorHello,
  type SensorPcm,
  type SensorStats,
} from './sensor.js';
import { SpectrogramView } from './view.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const sensorUrl = document.querySelector<HTMLMetaElement>('meta[name="earmark-sensor"]')?.content ?? '';

const view = new SpectrogramView($<HTMLCanvasElement>('received'));
const got = {
  frames: [] as SensorFrames[],
  pcm: [] as SensorPcm[],
  hello: null as SensorHello | null,
  stats: [] as SensorStats[],
  ended: false,
};
const demo: { sensor: Sensor | null; got: typeof got } = { sensor: null, got };
(window as unknown as { earmarkDemo: typeof demo }).earmarkDemo = demo;

/** ?mode=window opens the sensor as its own window (from the button's click); otherwise it is embedded. */
function connect(mode: 'frame' | 'window'): void {
  const sensor = createSensor({ sensorUrl, formats: ['frames', 'pcm'], mode, container: $('sensor') });
  demo.sensor = sensor;
  sensor.on('hello', (h) => {
    got.hello = h;
    $('hello').textContent =
      `granted task '${h.task}' · ${h.model} · ` +
      `window ${h.window.windowFrames}/${h.window.lookaheadFrames} frames · ${h.backend}`;
    $<HTMLAudioElement>('player').srcObject = sensor.mediaStream();
    $<HTMLButtonElement>('stop').disabled = false;
  });
  sensor.on('frames', (f) => {
    got.frames.push(f);
    view.push(f.frames, f.count);
    const late = performance.timeOrigin + performance.now() - f.capturedAt;
    $('arrival').textContent =
      `${f.first + f.count} obfuscated frames received; the newest arrived ${late.toFixed(0)} ms after it was spoken`;
  });
  sensor.on('pcm', (p) => got.pcm.push(p));
  sensor.on('stats', (s) => {
    got.stats.push(s);
    $('speed').textContent =
      `sensor: latency ${s.latencyMs.toFixed(0)} ms (windowed rule ${s.algorithmicLatencyMs.toFixed(0)} ms) · ` +
      `real-time factor ${s.realTimeFactor.toFixed(3)} (${s.msPerSecond.toFixed(1)} ms per second of audio)`;
  });
  sensor.on('end', () => {
    got.ended = true;
    $('arrival').textContent += ' · stream ended';
  });
  sensor.on('error', ({ message }) => {
    $('arrival').textContent = `sensor error: ${message}`;
  });
  $('stop').addEventListener('click', () => void sensor.stop());
}

if (new URLSearchParams(location.search).get('mode') === 'window') {
  const button = $<HTMLButtonElement>('connect');
  button.hidden = false;
  button.addEventListener('click', () => {
    button.disabled = true;
    connect('window');
  });
} else connect('frame');
