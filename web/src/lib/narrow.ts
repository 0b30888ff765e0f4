// Whether the window is phone-sized (the tables show fewer columns then), following resizes.
import { useEffect, useState } from "react";

const NARROW = "(max-width: 40rem)";

export function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => window.matchMedia(NARROW).matches);
  useEffect(() => {
    const media = window.matchMedia(NARROW);
    const changed = () => {
      setNarrow(media.matches);
    };
    media.addEventListener("change", changed);
    return () => {
      media.removeEventListener("change", changed);
    };
  }, []);
  return narrow;
}
