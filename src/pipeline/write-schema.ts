#!/usr/bin/env node
/**
 * Writes pipelines/pipeline.schema.json from the schema in the code, for editors that validate
 * YAML/JSON against a JSON Schema (`make pipeline-schema`). test/pipeline-file.test.ts checks they agree.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';
import { PIPELINE_SCHEMA } from './pipeline-schema.js';

writeFileSync(join(packageRoot(), 'pipelines', 'pipeline.schema.json'), `${JSON.stringify(PIPELINE_SCHEMA, null, 2)}\n`);
