/** A link to another page of the same model: the target keeps the URL's `?model=`. */
import type { ComponentProps } from "react";
import { Link, NavLink } from "react-router-dom";
import { useModelPath } from "../api/modelName";

type LinkProps = ComponentProps<typeof Link> & { to: string };
type NavLinkProps = ComponentProps<typeof NavLink> & { to: string };

export function ModelLink({ to, ...props }: LinkProps) {
  const path = useModelPath();
  return <Link to={path(to)} {...props} />;
}

export function ModelNavLink({ to, ...props }: NavLinkProps) {
  const path = useModelPath();
  return <NavLink to={path(to)} {...props} />;
}
