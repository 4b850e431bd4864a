import type { MouseEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { DOCUMENT_IDS, isDocumentId, type PolicyVersions, type RenderedDocument } from "../../api/types.ts";
import { useApi } from "../../api/use-api.ts";
import {
  buttonClass,
  Card,
  EmptyState,
  ErrorState,
  LoadingState,
  Select,
  useDocumentTitle,
} from "../../ui/index.ts";

/** Address of a downloadable rendering (contract: GET /policy/:version/:docId.:lang.(html|md)). */
export const downloadHref = (version: string, docId: string, lang: string, format: "html" | "md") =>
  `/policy/${encodeURIComponent(version)}/${docId}.${lang}.${format}`;

const WEB_ROUTE: Record<string, string> = {
  "personal-information": "/center/personal-information",
  "third-parties": "/center/third-parties",
};

export const PolicyDocumentPage = () => {
  const { docId } = useParams();
  const { t } = useTranslation();
  if (!isDocumentId(docId)) {
    return (
      <EmptyState
        title={t("policy.notFoundTitle")}
        action={<Link to="/center">{t("common.backToCenter")}</Link>}
      >
        {t("policy.notFoundBody", { docId: (docId ?? "").slice(0, 64) })}
      </EmptyState>
    );
  }
  return <PolicyDocument docId={docId} />;
};

const PolicyDocument = ({ docId }: { docId: (typeof DOCUMENT_IDS)[number] }) => {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  // The chosen version lives in the address (?version=), so a link can point at an earlier version.
  const [params, setParams] = useSearchParams();
  const version = params.get("version")?.slice(0, 40) || undefined;
  const setVersion = (next: string) => setParams(next ? { version: next } : {}, { replace: true });
  const versions = useApi<PolicyVersions>("/api/v1/policy/versions");
  const doc = useApi<RenderedDocument>(`/api/v1/policy/documents/${docId}`, { version });
  useDocumentTitle(doc.status === "ok" ? doc.data.title : t(`docs.${docId}`));

  const shownVersion = doc.status === "ok" ? doc.data.version : version;
  const versionOptions =
    versions.status === "ok"
      ? versions.data.versions.map((v) => ({
          value: v.version,
          label: v.current ? t("policy.versionCurrent", { version: v.version }) : v.version,
        }))
      : shownVersion
        ? [{ value: shownVersion, label: shownVersion }]
        : [];
  // A version typed into the address that was never published still shows in the picker (and fails below).
  if (shownVersion && !versionOptions.some((o) => o.value === shownVersion))
    versionOptions.unshift({ value: shownVersion, label: shownVersion });

  /** Links inside the rendered document that point into the web app stay in the app. */
  const keepInApp = (event: MouseEvent<HTMLDivElement>) => {
    const anchor = (event.target as HTMLElement).closest("a");
    const href = anchor?.getAttribute("href");
    if (!anchor || !href || event.metaKey || event.ctrlKey || event.shiftKey || anchor.target) return;
    if (href.startsWith("/center") || href.startsWith("/console")) {
      event.preventDefault();
      navigate(href);
    }
  };

  const title = doc.status === "ok" ? doc.data.title : t(`docs.${docId}`);

  return (
    <div className="ui-doc-layout">
      <div className="ui-stack">
        <header className="ui-page-header">
          <h1>{title}</h1>
          <p className="ui-page-header__lead">{t(`docsLead.${docId}`)}</p>
          <div className="ui-page-header__meta ui-doc-meta">
            <Select
              label={t("policy.version")}
              options={versionOptions}
              value={shownVersion ?? ""}
              onChange={(event) => setVersion(event.target.value)}
              disabled={versionOptions.length === 0}
              data-testid="version-picker"
            />
            {doc.status === "ok" && shownVersion ? (
              <div className="ui-row">
                <a
                  className={buttonClass("secondary")}
                  href={downloadHref(shownVersion, docId, i18n.language, "html")}
                  data-testid="download-html"
                  download
                >
                  {t("policy.download")} · {t("policy.downloadHtml")}
                  <span className="ui-visually-hidden"> · {title}</span>
                </a>
                <a
                  className={buttonClass("secondary")}
                  href={downloadHref(shownVersion, docId, i18n.language, "md")}
                  data-testid="download-md"
                  download
                >
                  {t("policy.download")} · {t("policy.downloadMd")}
                  <span className="ui-visually-hidden"> · {title}</span>
                </a>
              </div>
            ) : null}
          </div>
        </header>
        {doc.status === "loading" ? <LoadingState /> : null}
        {doc.status === "error" ? <ErrorState error={doc.error} onRetry={doc.reload} /> : null}
        {doc.status === "ok" ? (
          // The fragment is HTML rendered on our server from the manifest (escaped there), not user input.
          // biome-ignore lint/a11y/noStaticElementInteractions: click delegation only re-routes links inside the document
          // biome-ignore lint/a11y/useKeyWithClickEvents: links keep their own keyboard behaviour; Enter on a link fires click
          <div className="ui-prose" data-testid="policy-document" lang={doc.data.lang} onClick={keepInApp}>
            <div dangerouslySetInnerHTML={{ __html: doc.data.html }} />
          </div>
        ) : null}
      </div>
      <aside className="ui-doc-layout__aside" aria-labelledby="other-docs">
        <Card title={t("policy.otherDocuments")} headingLevel={2} labelledBy="other-docs">
          <ul className="ui-link-list">
            {DOCUMENT_IDS.filter((id) => id !== docId).map((id) => (
              <li key={id}>
                <Link to={WEB_ROUTE[id] ?? `/center/policy/${id}`}>{t(`docs.${id}`)}</Link>
              </li>
            ))}
          </ul>
        </Card>
      </aside>
    </div>
  );
};
