// Shared test fixtures; each server helper is re-exported here.
export {};
