/** Fetch API responses the plain routes share. */

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  return new Response(text, {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    },
  });
}

/** bytes (an image) with their length; Node's Buffers are typed as possibly shared memory, which a body cannot be */
export function binary(status: number, bytes: Uint8Array, headers: Record<string, string>): Response {
  const body =
    bytes.buffer instanceof ArrayBuffer
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : Uint8Array.from(bytes);
  return new Response(body, { status, headers: { 'content-length': String(bytes.byteLength), ...headers } });
}
