// The request body as the sandbox pulls it: what has arrived so far, then more on demand.

/** A request body the sandbox reads from while the handler runs. */
export interface BodySource {
  /**
   * Takes the bytes received so far (handed to the isolate with the request, saving a crossing),
   * and says whether that is the whole body.
   */
  takeBuffered(): { bytes: Uint8Array; complete: boolean };
  /**
   * Resolves with the next bytes once at least one has arrived (at most `max`; `-1`: the whole rest
   * of the body), or an empty array at the end. Rejects when the body cannot be completed (the
   * client went away, the body is over its limit, the request timed out). The first call is where
   * an `Expect: 100-continue` is answered. Every array resolved is freshly allocated, exactly sized.
   */
  read(max: number): Promise<Uint8Array>;
}
