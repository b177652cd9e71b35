/** One GPU as discovered on a Ki and advertised in its heartbeats: the wire type. */
export type { GpuDevice } from '../../protocol';
