/** Two prompts right-aligned, as the server pairs them (see the API's TokenAlignment): the last
 * tokens pair up, right index = left index + offset; the longer prompt's first tokens have no
 * pair. */

export interface TokenAlignment {
  offset: number;
  leftToRight: readonly (number | null)[];
  rightToLeft: readonly (number | null)[];
}

/** One column of the aligned prompts: the token index each prompt has there, or null. */
export interface AlignedColumn {
  left: number | null;
  right: number | null;
}

/** The columns of the two prompts laid out right-aligned, one per token of the longer. */
export function alignedColumns(alignment: TokenAlignment): AlignedColumn[] {
  const nLeft = alignment.leftToRight.length;
  const nRight = alignment.rightToLeft.length;
  const n = Math.max(nLeft, nRight);
  const columns: AlignedColumn[] = [];
  for (let c = 0; c < n; c++) {
    const left = c - (n - nLeft);
    const right = c - (n - nRight);
    columns.push({ left: left >= 0 ? left : null, right: right >= 0 ? right : null });
  }
  return columns;
}

/** The compare prompt's token paired with the prompt's token `left`, or null. */
export function pairedRight(alignment: TokenAlignment, left: number): number | null {
  return alignment.leftToRight[left] ?? null;
}

/** "5 of 7 tokens pair up: the last 5 of each" and the like. */
export function alignmentSummary(alignment: TokenAlignment): string {
  const nLeft = alignment.leftToRight.length;
  const nRight = alignment.rightToLeft.length;
  if (alignment.offset === 0) return `All ${nLeft} tokens pair up.`;
  const paired = Math.min(nLeft, nRight);
  const longer = nLeft > nRight ? "prompt" : "second prompt";
  const extra = Math.abs(alignment.offset);
  return (
    `The prompts are right-aligned: the last ${paired} tokens of each pair up; the first ` +
    `${extra} token${extra === 1 ? "" : "s"} of the ${longer} ${extra === 1 ? "has" : "have"} no pair.`
  );
}
