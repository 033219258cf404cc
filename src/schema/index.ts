/** Assembles the schema from the types each domain defines. */
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
import './scalars.ts';
import './errors.ts';
import './server-info.ts';
import '../endpoints/schema.ts';
import '../capture/schema.ts';
import '../groundtruth/schema.ts';
import '../inference/schema.ts';
import '../monitor/schema.ts';
import '../debugger/schema.ts';
import '../auth/schema.ts';
import '../alerting/schema.ts';
import '../attack/schema.ts';
import '../figures/schema.ts';

let schema: GraphQLSchema | undefined;

export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema({ sortSchema: false });
  return schema;
}

/** schema.graphql's content: sorted so that moving code around does not reorder the file */
export function printSdl(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
