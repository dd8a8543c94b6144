/**
 * The CLI entry exactly as `bin/gatehouse.js` runs it without a build (`tsx` on the sources):
 * tests that spawn processes use it so that a `dist/` left by a build elsewhere is not what they
 * test. Cluster workers re-run this file with the same `--import tsx`.
 */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
