import type { ReactNode } from 'react';

/**
 * The head of a table of logged files: name, size, the columns given, and a download column
 * whose header only screen readers hear.
 */
export function FileTableHead({ children }: { children?: ReactNode }) {
  return (
    <thead>
      <tr>
        <th>File</th>
        <th className="num">Size</th>
        {children}
        <th>
          <span className="visually-hidden">Download</span>
        </th>
      </tr>
    </thead>
  );
}

/**
 * A link that saves a logged file under its base name (file names may hold a path). A remote
 * file is a link logged in place of bytes: with `remote` it opens in a new tab instead.
 */
export function DownloadLink({
  href,
  fileName,
  remote = false,
  className,
  children = 'Download',
}: {
  href: string;
  fileName: string;
  remote?: boolean;
  className?: string;
  children?: ReactNode;
}) {
  return (
    <a
      href={href}
      download={fileName.split('/').pop()}
      className={className}
      {...(remote ? { target: '_blank', rel: 'noreferrer noopener' } : {})}
    >
      {children}
    </a>
  );
}
