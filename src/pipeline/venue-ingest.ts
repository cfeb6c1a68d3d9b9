export type VenueIngest = { stop(): Promise<void>; bookHealth(): never[] };
export async function startVenueIngest(..._a: unknown[]): Promise<VenueIngest> { throw new Error("x"); }
