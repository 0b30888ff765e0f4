// The one typed client of the server's API (types generated from /openapi.json into
// schema.d.ts by `make api-types`). Every request says it sends and wants JSON: the server
// changes state only for JSON requests of its own origin (docs/operations.md, "Running").
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { ApiError } from "./errors";

export type Schemas = components["schemas"];

export const api = createClient<paths>({
  baseUrl: "",
  headers: { Accept: "application/json", "Content-Type": "application/json" },
});

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The answer's data, or an `ApiError` in words (the server's `{error, detail}`, or a
 * network failure) thrown for the caller's query or mutation to show. */
export async function unwrap<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await request;
  } catch (failure) {
    throw ApiError.network(failure);
  }
  if (answer.error !== undefined || !answer.response.ok) {
    throw ApiError.fromBody(answer.response.status, answer.error);
  }
  return answer.data as T;
}
