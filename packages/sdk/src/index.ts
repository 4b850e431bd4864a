export {
  type CustosClient,
  type CustosClientOptions,
  type CustosClientStatus,
  CustosHttpError,
  type CustosPreparedDecision,
  type CustosPurposeHandle,
  CustosStaleError,
  createCustosClient,
  type DecideOptions,
} from "./client.ts";
export {
  DecisionTable,
  type DecisionTableOptions,
  PreparedDecision,
  PurposeHandle,
} from "./decision-table.ts";
export * from "./protocol.ts";
export { type SseEvent, type SseHandlers, SseParser } from "./sse.ts";
