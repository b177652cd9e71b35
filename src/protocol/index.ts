export * from './messages';
export * from './names';
