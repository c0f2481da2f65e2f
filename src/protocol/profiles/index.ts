export { facebook } from './facebook.js';
export { github } from './github.js';
