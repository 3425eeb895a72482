// File formats: safetensors (byte-compatible with Python's safetensors package).
export {
  encodeSafetensors,
  decodeSafetensors,
  saveSafetensors,
  saveSafetensorsSync,
  loadSafetensors,
  loadSafetensorsSync,
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
  type TensorDict,
  type LoadedSafetensors,
} from './safetensors.js';
export { encodeRaw, decodeRaw, MAX_HEADER_BYTES, type RawTensor, type RawSafetensors } from './safetensors-format.js';
