import { useEffect, useState } from 'preact/hooks';
import { useSession } from '../app-context.tsx';

/** An `<img>` of an API link: fetched with the session's token, shown once loaded. */
export function AuthImage(props: { url: string | null | undefined; alt: string; class?: string; onLoad?: (e: Event) => void }) {
  const session = useSession();
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let current = true;
    setSrc(null);
    setFailed(false);
    if (!props.url) return;
    session.imageUrl(props.url).then(
      (objectUrl) => current && setSrc(objectUrl),
      () => current && setFailed(true),
    );
    return () => {
      current = false;
    };
  }, [props.url, session]);
  if (!src) return <span class={`image-placeholder ${props.class ?? ''} ${failed ? 'image-failed' : ''}`} role="img" aria-label={props.alt} />;
  return <img src={src} alt={props.alt} class={props.class} onLoad={props.onLoad} draggable={false} loading="lazy" decoding="async" />;
}
