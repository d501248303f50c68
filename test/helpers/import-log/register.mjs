// `node --import <this file>`: registers hooks.mjs, which logs every module the process resolves.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
