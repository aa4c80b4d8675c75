// The offer editor's form and the spec it becomes: checked here against the room's limits
// (crates/room/src/offers.rs) so the instructor sees what to fix before anything is sent; the
// room checks again and has the last word.
import type { Course } from '../../lib/bindings/api';
import { centsToInput, parseMoney } from '../../lib/room/money';
import type { OfferSpec, VariantSpec } from '../../lib/room/protocol';
import { graphemeCount } from '../../lib/room/text';

export const MAX_VARIANTS = 4;
export const TITLE_MAX = 80;
export const CTA_MAX = 40;
export const ID_MAX = 40;
export const URL_MAX_BYTES = 512;
export const PRICE_MAX_CENTS = 100_000_000;
export const MINUTE_MAX = 720;
export const DEFAULT_CTA = 'Enrol now';
const NAMES = ['A', 'B', 'C', 'D'];

/** One arm as typed: an empty override means "as the offer". */
export interface VariantDraft {
  name: string;
  /** Percent of viewers, as typed. */
  weight: string;
  title: string;
  cta: string;
  /** A price in the currency's units ("39.00"). */
  price: string;
  discount: string;
  /** The minute of the class at which this variant's card appears (a timing test). */
  minute: string;
}

export interface OfferDraft {
  courseId: string;
  experiment: string;
  /** What the experiment decides on, chosen before it starts. */
  metric: 'conversion' | 'revenue';
  title: string;
  cta: string;
  price: string;
  currency: string;
  discount: string;
  checkoutUrl: string;
  variants: VariantDraft[];
}

/** Which field a problem is about, to mark it and move focus there. */
export type DraftField = 'course' | 'minute' | 'experiment' | 'title' | 'cta' | 'price' | 'currency' | 'discount' | 'url' | `variant-${number}`;

export type DraftResult = { spec: OfferSpec } | { problem: string; field: DraftField };

function variant(name: string, weight: string): VariantDraft {
  return { name, weight, title: '', cta: '', price: '', discount: '', minute: '' };
}

/** Shares that add up to exactly 100: "50"/"50", "33.33"/"33.33"/"33.34". */
export function evenWeights(n: number): string[] {
  if (n <= 0) return [];
  const base = Math.floor(10_000 / n) / 100;
  const last = Math.round((100 - base * (n - 1)) * 100) / 100;
  const show = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
  return [...Array.from({ length: n - 1 }, () => show(base)), show(last)];
}

export function emptyDraft(): OfferDraft {
  return {
    courseId: '',
    experiment: '',
    metric: 'conversion',
    title: '',
    cta: DEFAULT_CTA,
    price: '',
    currency: 'USD',
    discount: '0',
    checkoutUrl: '',
    variants: [variant('A', '50'), variant('B', '50')],
  };
}

/** A slug the room accepts: `A-Z a-z 0-9 _ -`, at most `max` bytes. */
export function slugify(text: string, max = ID_MAX): string {
  return text
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, max)
    .replace(/-$/, '');
}

function truncate(text: string, max: number): string {
  if (graphemeCount(text) <= max) return text;
  const parts = typeof Intl !== 'undefined' && 'Segmenter' in Intl
    ? Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text), (s) => s.segment)
    : [...text];
  return parts.slice(0, max - 1).join('').trimEnd() + '…';
}

/** The draft with the course's title, price and currency, keeping the link and the variants. */
export function withCourse(draft: OfferDraft, course: Course): OfferDraft {
  return {
    ...draft,
    courseId: course.id,
    experiment: slugify(`${course.id}-offer`),
    title: truncate(course.title, TITLE_MAX),
    price: centsToInput(course.priceCents),
    currency: course.currency,
    cta: draft.cta.trim() === '' ? DEFAULT_CTA : draft.cta,
  };
}

export function addVariant(draft: OfferDraft): void {
  if (draft.variants.length >= MAX_VARIANTS) return;
  const name = NAMES.find((n) => !draft.variants.some((v) => v.name === n)) ?? `V${draft.variants.length + 1}`;
  draft.variants.push(variant(name, '0'));
  splitEvenly(draft);
}

export function removeVariant(draft: OfferDraft, index: number): void {
  if (draft.variants.length <= 1) return;
  draft.variants.splice(index, 1);
  splitEvenly(draft);
}

export function splitEvenly(draft: OfferDraft): void {
  const weights = evenWeights(draft.variants.length);
  draft.variants.forEach((v, i) => (v.weight = weights[i] ?? '0'));
}

/** Whether the variants differ in timing: then the offer is scheduled, never pushed now. */
export function isTimingTest(draft: OfferDraft): boolean {
  return draft.variants.some((v) => v.minute.trim() !== '');
}

/** The sum of the shares as typed, or null when one is not a number. */
export function weightSum(draft: OfferDraft): number | null {
  let sum = 0;
  for (const v of draft.variants) {
    const w = Number(v.weight.trim().replace(',', '.'));
    if (v.weight.trim() === '' || !Number.isFinite(w)) return null;
    sum += w;
  }
  return Math.round(sum * 100) / 100;
}

/** A checkout link the room accepts, or why not. */
export function checkUrl(raw: string): string | null {
  const text = raw.trim();
  if (text === '') return 'Paste the checkout link of the course on your shop.';
  if (!/^https:\/\//i.test(text)) return 'The checkout link must start with https://.';
  if (new TextEncoder().encode(text).length > URL_MAX_BYTES) return `The checkout link can have at most ${URL_MAX_BYTES} characters.`;
  if (/[^\x21-\x7e]/.test(text)) return 'The checkout link has spaces or other characters a link cannot hold: copy it from the address bar.';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'The checkout link is not a valid address.';
  }
  if (url.username !== '' || url.password !== '') return 'The checkout link cannot hold a user name or password.';
  if (!/^[a-z0-9.-]+(:\d+)?$/i.test(url.host) || /^[\d.]+$/.test(url.hostname)) return 'The checkout link must be on a domain name.';
  if (url.searchParams.has('ref')) return 'Remove the ref= part of the checkout link: Lectern adds its own.';
  return null;
}

function checkLine(text: string, max: number, what: string): string | null {
  const t = text.trim();
  if (t === '') return `Write the ${what}.`;
  if (graphemeCount(t) > max) return `The ${what} can have at most ${max} characters.`;
  return null;
}

function checkDiscount(text: string): number | string {
  const t = text.trim();
  if (!/^\d{1,3}$/.test(t) || Number(t) > 100) return 'A discount is a whole number from 0 to 100 (percent).';
  return Number(t);
}

function checkPrice(text: string): number | string {
  const cents = parseMoney(text);
  if (cents === null) return 'Write the price as a number, like 49 or 49.00.';
  if (cents > PRICE_MAX_CENTS) return 'The price is too high (at most 1,000,000).';
  return cents;
}

/** The spec for a draft (with a fresh offer `id`), or the first problem to fix. */
export function specFromDraft(draft: OfferDraft, id: string): DraftResult {
  if (draft.courseId === '') return { problem: 'Choose the course to offer.', field: 'course' };
  const title = checkLine(draft.title, TITLE_MAX, 'title');
  if (title) return { problem: title, field: 'title' };
  const cta = checkLine(draft.cta, CTA_MAX, 'button text');
  if (cta) return { problem: cta, field: 'cta' };
  const price = checkPrice(draft.price);
  if (typeof price === 'string') return { problem: price, field: 'price' };
  const currency = draft.currency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) return { problem: 'The currency is a three-letter code, like EUR or USD.', field: 'currency' };
  const discount = checkDiscount(draft.discount);
  if (typeof discount === 'string') return { problem: discount, field: 'discount' };
  const url = checkUrl(draft.checkoutUrl);
  if (url) return { problem: url, field: 'url' };
  const experiment = draft.experiment.trim();
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(experiment)) {
    return { problem: 'The experiment name is 1 to 40 letters, digits, - or _ (viewers keep their variant across classes with the same name).', field: 'experiment' };
  }
  if (draft.variants.length < 1 || draft.variants.length > MAX_VARIANTS) return { problem: `An offer has 1 to ${MAX_VARIANTS} variants.`, field: 'variant-0' };
  const sum = weightSum(draft);
  if (sum === null) return { problem: 'Give every variant a share in percent.', field: 'variant-0' };
  if (Math.abs(sum - 100) > 0.01) return { problem: `The variants' shares add up to ${sum}%, not 100%.`, field: 'variant-0' };
  const timed = draft.variants.filter((v) => v.minute.trim() !== '').length;
  if (timed !== 0 && timed !== draft.variants.length) {
    return { problem: 'Give every variant a minute (to test timing), or none.', field: 'variant-0' };
  }

  const variants: VariantSpec[] = [];
  for (const [i, v] of draft.variants.entries()) {
    const label = `Variant ${v.name || i + 1}`;
    const field: DraftField = `variant-${i}`;
    if (!/^[A-Za-z0-9_-]{1,20}$/.test(v.name)) return { problem: `${label}: a name is 1 to 20 letters, digits, - or _.`, field };
    if (draft.variants.findIndex((o) => o.name === v.name) !== i) return { problem: `Two variants are named ${v.name}.`, field };
    const weight = Number(v.weight.trim().replace(',', '.'));
    if (!(weight > 0 && weight <= 100)) return { problem: `${label}: a share is above 0% and at most 100%.`, field };
    const spec: VariantSpec = { name: v.name, weight: Math.round(weight * 10_000) / 1_000_000 };
    if (v.title.trim() !== '') {
      const problem = checkLine(v.title, TITLE_MAX, 'title');
      if (problem) return { problem: `${label}: ${problem}`, field };
      spec.title = v.title.trim();
    }
    if (v.cta.trim() !== '') {
      const problem = checkLine(v.cta, CTA_MAX, 'button text');
      if (problem) return { problem: `${label}: ${problem}`, field };
      spec.cta = v.cta.trim();
    }
    if (v.price.trim() !== '') {
      const p = checkPrice(v.price);
      if (typeof p === 'string') return { problem: `${label}: ${p}`, field };
      spec.price_cents = p;
    }
    if (v.discount.trim() !== '') {
      const d = checkDiscount(v.discount);
      if (typeof d === 'string') return { problem: `${label}: ${d}`, field };
      spec.discount_pct = d;
    }
    if (v.minute.trim() !== '') {
      const m = v.minute.trim();
      if (!/^\d{1,3}$/.test(m) || Number(m) > MINUTE_MAX) return { problem: `${label}: the minute is a whole number from 0 to ${MINUTE_MAX}.`, field };
      spec.minute = Number(m);
    }
    variants.push(spec);
  }

  return {
    spec: {
      id,
      course_id: draft.courseId,
      experiment,
      metric: draft.metric,
      title: draft.title.trim(),
      cta: draft.cta.trim(),
      price_cents: price,
      currency,
      discount_pct: discount,
      checkout_url: draft.checkoutUrl.trim(),
      variants,
    },
  };
}

/** A new offer id (unique in the class): the course and the time, within the room's 40 bytes. */
export function newOfferId(courseId: string, nowMs: number): string {
  const stamp = Math.max(0, Math.floor(nowMs)).toString(36);
  return `${slugify(courseId, ID_MAX - stamp.length - 1) || 'offer'}-${stamp}`;
}
