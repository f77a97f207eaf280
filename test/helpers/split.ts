// Test helper: every way of feeding bytes to an incremental parser: whole, byte by byte, and split in two at every position.

/** Yields [description, chunks] for each way of splitting `input`. */
export function* splits(input: Buffer): Generator<[string, Buffer[]]> {
  yield ['whole', [input]];
  yield ['byte by byte', [...input].map((b) => Buffer.from([b]))];
  for (let i = 1; i < input.length; i++) yield [`split at ${i}`, [input.subarray(0, i), input.subarray(i)]];
}
