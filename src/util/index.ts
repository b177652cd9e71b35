export { isWellFormed, isStorableText } from './unicode';
