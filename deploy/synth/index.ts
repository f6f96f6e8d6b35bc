// This repository's dist/ writer: phases (file names, sync waves), rendering, all-or-nothing writes.
export * from './phases';
export * from './render';
export * from './write';
