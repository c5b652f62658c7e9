import { NavLink, Route, Routes } from "react-router-dom";
import { ArchitecturePage } from "./architecture/ArchitecturePage";
import { DebuggerPage } from "./debugger/DebuggerPage";
import { HomePage } from "./home/HomePage";
import { ComponentPage } from "./node-page/ComponentPage";
import { useModelInfo } from "./api/hooks";

function ModelBadge() {
  const info = useModelInfo();
  if (info.isPending) return <span className="muted">loading model…</span>;
  if (info.isError) return <span className="error-text">server unreachable</span>;
  return <span className="muted" title={info.data.description}>model: {info.data.name}</span>;
}

function NotFound() {
  return (
    <main className="page">
      <h1>Not found</h1>
      <p>
        No page here. Go <NavLink to="/">home</NavLink>.
      </p>
    </main>
  );
}

export function App() {
  return (
    <>
      <header className="top-bar">
        <NavLink to="/" className="brand">
          Transformer Debugger
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Home
          </NavLink>
          <NavLink to="/debugger">Debugger</NavLink>
          <NavLink to="/architecture">Architecture</NavLink>
        </nav>
        <ModelBadge />
      </header>
      <Routes>
        <Route path="/" element={<HomePage />} />
        <Route path="/debugger" element={<DebuggerPage />} />
        <Route path="/architecture" element={<ArchitecturePage />} />
        <Route path="/component/:family/:where/:index" element={<ComponentPage />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </>
  );
}
