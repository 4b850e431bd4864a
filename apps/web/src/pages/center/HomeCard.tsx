import { ButtonLink, Card } from "../../ui/index.ts";

/** A card on the privacy center's home page: what a page is for, and a link that opens it. */
export const HomeCard = ({
  title,
  lead,
  to,
  open,
}: {
  title: string;
  lead: string;
  to: string;
  open: string;
}) => (
  <Card title={title} footer={<ButtonLink to={to}>{open}</ButtonLink>}>
    <p className="ui-muted">{lead}</p>
  </Card>
);
