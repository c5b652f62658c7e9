/** A two-column table of labelled values (model configuration, component statistics). */
export function KeyValueTable({ label, rows }: { label: string; rows: [string, string | number][] }) {
  return (
    <table className="data" aria-label={label} style={{ width: "auto" }}>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="num">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
