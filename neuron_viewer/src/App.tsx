import { Route, Routes } from "react-router-dom";
import { ArchitecturePage } from "./architecture/ArchitecturePage";
import { DebuggerPage } from "./debugger/DebuggerPage";
import { HomePage } from "./home/HomePage";
import { ModelNavLink } from "./lib/ModelLink";
import { ModelSwitcher } from "./models/ModelSwitcher";
import { ComponentPage } from "./node-page/ComponentPage";

function NotFound() {
  return (
    <main className="page">
      <h1>Not found</h1>
      <p>
        No page here. Go <ModelNavLink to="/">home</ModelNavLink>.
      </p>
    </main>
  );
}

export function App() {
  return (
    <>
      <header className="top-bar">
        <ModelNavLink to="/" className="brand">
          Transformer Debugger
        </ModelNavLink>
        <nav aria-label="Main">
          <ModelNavLink to="/" end>
            Home
          </ModelNavLink>
          <ModelNavLink to="/debugger">Debugger</ModelNavLink>
          <ModelNavLink to="/architecture">Architecture</ModelNavLink>
        </nav>
        <ModelSwitcher />
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
