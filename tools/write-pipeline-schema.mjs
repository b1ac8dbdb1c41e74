#!/usr/bin/env node
// Writes pipelines/pipeline.schema.json from the schema in the code (after `npx tsc -p .`), for
// editors that validate YAML/JSON against a JSON Schema. test/pipeline-file.test.ts checks they agree.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { PIPELINE_SCHEMA } = await import(join(root, 'dist', 'src', 'pipeline', 'pipeline-schema.js'));
writeFileSync(join(root, 'pipelines', 'pipeline.schema.json'), `${JSON.stringify(PIPELINE_SCHEMA, null, 2)}\n`);
