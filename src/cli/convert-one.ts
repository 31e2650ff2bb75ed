// The conversion of one model lives in convert/ (the queue and the reports use it too, beneath
// the CLI); this path is kept for the scripts that import it from here.
export * from '../convert/convert-one.js';
