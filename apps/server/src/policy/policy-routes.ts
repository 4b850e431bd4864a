import type { Language } from "@custos/manifest";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponses } from "../errors.ts";
import {
  DocIdParams,
  DocumentList,
  DownloadParams,
  LangQuery,
  LangVersionQuery,
  PersonalInformationList,
  PolicyVersions,
  RenderedDocument,
  ThirdPartyList,
} from "./policy-schemas.ts";
import { languageFromHeader, type PolicyService } from "./policy-service.ts";

type Deps = { policyService: PolicyService };

const tags = ["policy"];

function langOf(request: FastifyRequest, query: { lang?: Language | undefined }): Language {
  return query.lang ?? languageFromHeader(request.headers["accept-language"]);
}

/** Public, unauthenticated policy API (MAN-4, POL-1) and the file downloads. */
export function registerPolicyRoutes(app: FastifyInstance, { policyService }: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/api/v1/policy/versions",
    {
      schema: {
        tags,
        operationId: "listPolicyVersions",
        summary: "List published policy versions",
        description: "Every published version stays available (POL-1); `current` marks the one in force.",
        response: { 200: PolicyVersions, ...errorResponses },
      },
    },
    async () => {
      const versions = await policyService.listVersions();
      return {
        versions: versions.map((v) => ({
          version: v.version,
          hash: v.hash,
          publishedAt: v.publishedAt.toISOString(),
          current: v.current,
        })),
      };
    },
  );

  r.get(
    "/api/v1/policy/documents",
    {
      schema: {
        tags,
        operationId: "listPolicyDocuments",
        summary: "List the policy documents of the current version",
        description: "Titles in the requested language and links to the HTML and Markdown downloads.",
        querystring: LangQuery,
        response: { 200: DocumentList, ...errorResponses },
      },
    },
    async (request) => policyService.listDocuments(langOf(request, request.query)),
  );

  r.get(
    "/api/v1/policy/documents/:docId",
    {
      schema: {
        tags,
        operationId: "getPolicyDocument",
        summary: "Get one policy document as an HTML fragment",
        querystring: LangVersionQuery,
        params: DocIdParams,
        response: { 200: RenderedDocument, ...errorResponses },
      },
    },
    async (request) =>
      policyService.getDocument(request.params.docId, langOf(request, request.query), request.query.version),
  );

  r.get(
    "/api/v1/policy/personal-information",
    {
      schema: {
        tags,
        operationId: "getPersonalInformationList",
        summary: "Collected Personal Information List (structured)",
        querystring: LangVersionQuery,
        response: { 200: PersonalInformationList, ...errorResponses },
      },
    },
    async (request) =>
      policyService.personalInformation(langOf(request, request.query), request.query.version),
  );

  r.get(
    "/api/v1/policy/third-parties",
    {
      schema: {
        tags,
        operationId: "getThirdPartyList",
        summary: "List of Third Party Shared Personal Information (structured)",
        querystring: LangVersionQuery,
        response: { 200: ThirdPartyList, ...errorResponses },
      },
    },
    async (request) => policyService.thirdParties(langOf(request, request.query), request.query.version),
  );

  r.get(
    "/policy/:version/:file",
    {
      schema: {
        tags,
        operationId: "downloadPolicyDocument",
        summary: "Download a policy document (HTML page or Markdown)",
        description:
          "`file` is `<docId>.<lang>.<html|md>`, e.g. `/policy/2025-06-01/privacy-policy.zh-CN.html`. Unknown versions, documents or languages answer 404 listing what exists.",
        params: DownloadParams,
        response: {
          200: {
            description: "The document",
            content: {
              "text/html": { schema: z.string() },
              "text/markdown": { schema: z.string() },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const file = await policyService.download(request.params.version, request.params.file);
      // A standalone document page: its own inline styles, no scripts at all.
      return reply
        .type(file.contentType)
        .header("content-disposition", `attachment; filename="${file.filename}"`)
        .header(
          "content-security-policy",
          "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        )
        .header("cache-control", "public, max-age=300")
        .send(file.body);
    },
  );
}
