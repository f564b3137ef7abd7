// Filled in by the emitter work of issue #6.
export {};
