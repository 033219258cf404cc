/** Prisma 7 types Bytes as Uint8Array<ArrayBuffer>; Node's Buffers are views on ArrayBufferLike. */
export function toBytes(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return data as Uint8Array<ArrayBuffer>;
}
