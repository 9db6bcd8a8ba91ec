import { useMemo, useState } from 'preact/hooks';
import type { Algorithm } from '@kensa/sdk';
import { navigate, useApp } from '../app-context.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { Pager } from '../components/pager.tsx';
import { VerdictBadge } from '../components/verdict-badge.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { filterItems, pageOf, verdictOf } from '../lib/items.ts';
import { checkValue, describeRange, displayValue, hasAutoTune, overridesFor, parseRange } from '../lib/parameters.ts';
import type { ParameterChoice } from '../lib/parameters.ts';
import { useLoad } from '../lib/use-load.ts';

const PAGE_SIZE = 60;

function defaultModelName(algorithmId: string): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${algorithmId}-${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}`;
}

function initialChoices(algorithm: Algorithm): Record<number, ParameterChoice> {
  return Object.fromEntries(
    algorithm.parameters.map((p) => [p.algorithm_parameter_id, { text: displayValue(p.value), autoTune: hasAutoTune(p) }]),
  );
}

export function TrainPage() {
  const { t, language } = useI18n();
  const app = useApp();
  const { sdk } = app.session;
  const loaded = useLoad(async () => {
    const [algorithms, items] = await Promise.all([sdk.getAlgorithms(), sdk.getItems({ target: app.target })]);
    return { algorithms, training: items.training };
  }, [app.session, app.target, language]); // descriptions come translated by the server
  const algorithms = loaded.data?.algorithms ?? [];
  const training = loaded.data?.training ?? [];

  const [algorithmId, setAlgorithmId] = useState<string | null>(null);
  const algorithm = algorithms.find((a) => a.algorithm_id === algorithmId) ?? algorithms[0] ?? null;
  // Each algorithm keeps its own form, derived during render (not in an effect) so that nothing typed right
  // after switching algorithm is overwritten by defaults arriving a frame later.
  const [choicesByAlgorithm, setChoicesByAlgorithm] = useState<Record<string, Record<number, ParameterChoice>>>({});
  const choices = algorithm ? choicesByAlgorithm[algorithm.algorithm_id] ?? initialChoices(algorithm) : {};
  const setChoices = (next: Record<number, ParameterChoice>) => algorithm && setChoicesByAlgorithm({ ...choicesByAlgorithm, [algorithm.algorithm_id]: next });
  // Until the person names the model, its name follows the chosen algorithm.
  const [typedName, setName] = useState<string | null>(null);
  const name = typedName ?? (algorithm ? defaultModelName(algorithm.algorithm_id) : '');
  const [useAll, setUseAll] = useState(true);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [itemFilter, setItemFilter] = useState('');
  const [page, setPage] = useState(1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);


  const problems = useMemo(() => {
    const found: Record<number, ReturnType<typeof checkValue>> = {};
    for (const p of algorithm?.parameters ?? []) {
      const choice = choices[p.algorithm_parameter_id];
      if (choice && !choice.autoTune) found[p.algorithm_parameter_id] = checkValue(p, choice.text);
    }
    return found;
  }, [algorithm, choices]);
  const hasProblems = Object.values(problems).some(Boolean);
  const filteredItems = useMemo(() => filterItems(training, { text: itemFilter, status: 'any', verdict: 'any' }), [training, itemFilter]);
  const shown = pageOf(filteredItems, page, PAGE_SIZE);

  const start = async (event: Event) => {
    event.preventDefault();
    if (!algorithm || hasProblems) return;
    setBusy(true);
    setError(null);
    try {
      const overrides = overridesFor(algorithm.parameters, choices);
      const model = await sdk.train(algorithm.algorithm_id, name.trim() || defaultModelName(algorithm.algorithm_id), overrides, useAll ? undefined : [...picked], { target: app.target });
      app.setLicense('active'); // training is refused without one
      navigate(app.href(`#/models?model=${encodeURIComponent(String(model.model_id))}`));
    } catch (caught) {
      setError(caught);
      app.noticeError(caught);
    } finally {
      setBusy(false);
    }
  };

  const toggle = (id: string) => {
    const next = new Set(picked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setPicked(next);
  };

  return (
    <form class="page train-page" onSubmit={start}>
      <div class="page-head">
        <h1>{t('trainTitle')}</h1>
      </div>
      <ErrorNotice error={loaded.error ?? error} onDismiss={error ? () => setError(null) : undefined} />
      {loaded.loading && !loaded.data && <p class="muted">{t('loading')}</p>}
      {algorithm && (
        <div class="train-layout">
          <fieldset class="panel algorithm-list">
            <legend>{t('algorithm')}</legend>
            {algorithms.map((a) => (
              <label key={a.algorithm_id} class={`algorithm-option ${a === algorithm ? 'chosen' : ''}`} data-algorithm={a.algorithm_id}>
                <input type="radio" name="algorithm" value={a.algorithm_id} checked={a === algorithm} onChange={() => setAlgorithmId(a.algorithm_id)} />
                <span class="algorithm-text">
                  <strong>{a.name}</strong> <code>{a.algorithm_id}</code>
                  <span class="small muted block">
                    {t('learnsFrom')}: {typeof a.learns_from === 'string' ? a.learns_from : a.type === 'supervised' ? t('supervised') : t('unsupervised')}
                  </span>
                  {a.description && <span class="small block">{a.description}</span>}
                </span>
              </label>
            ))}
          </fieldset>
          <div class="train-main">
            <section class="panel">
              <label class="field">
                <span>{t('modelName')}</span>
                <input value={name} required maxLength={120} onInput={(e) => setName(e.currentTarget.value)} data-testid="model-name" />
              </label>
              <h2>{t('parameters')}</h2>
              <div class="parameter-grid">
                {algorithm.parameters.map((p) => {
                  const choice = choices[p.algorithm_parameter_id] ?? { text: displayValue(p.value), autoTune: hasAutoTune(p) };
                  const problem = problems[p.algorithm_parameter_id];
                  // Numbers read the same in every language; the server's prose only when it has none.
                  const range = describeRange(parseRange(p.range)) ?? (typeof p.range === 'string' && p.range ? p.range : null);
                  const hints = [p.value !== null ? t('defaultValue', { value: displayValue(p.value) || '—' }) : null, range ? t('range', { range }) : null].filter(Boolean);
                  const inputId = `param-${p.algorithm_parameter_id}`;
                  const set = (change: Partial<ParameterChoice>) => setChoices({ ...choices, [p.algorithm_parameter_id]: { ...choice, ...change } });
                  return (
                    <div class={`parameter ${problem ? 'has-problem' : ''}`} key={p.algorithm_parameter_id}>
                      <label for={inputId} class="parameter-name">
                        <code>{p.name}</code> <span class="small muted">{p.data_type}</span>
                      </label>
                      <input
                        id={inputId}
                        name={p.name}
                        inputMode={p.data_type === 'int' || p.data_type === 'float' ? 'decimal' : 'text'}
                        value={choice.text}
                        disabled={choice.autoTune}
                        aria-invalid={problem ? true : undefined}
                        aria-describedby={`${inputId}-hint`}
                        onInput={(e) => set({ text: e.currentTarget.value })}
                      />
                      <div id={`${inputId}-hint`} class="small muted">
                        {hints.length > 0 && <span>{hints.join(' · ')}</span>}
                        {p.description && <span class="block">{String(p.description)}</span>}
                      </div>
                      {hasAutoTune(p) && (
                        <label class="switch">
                          <input type="checkbox" role="switch" checked={choice.autoTune} onChange={() => set({ autoTune: !choice.autoTune })} />
                          <span>{t('autoTune')}</span>
                          <span class="small muted">{t('autoTuneHint', { candidates: (p.auto_tune ?? []).map((c) => JSON.stringify(c)).join(', ') })}</span>
                        </label>
                      )}
                      {problem && <div class="text-error small" role="alert">{t(problem)}</div>}
                    </div>
                  );
                })}
              </div>
            </section>
            <section class="panel">
              <h2>{t('trainItems')}</h2>
              {training.length === 0 ? (
                <p class="muted">{t('noTrainingItems')}</p>
              ) : (
                <>
                  <label class="radio">
                    <input type="radio" name="item-choice" checked={useAll} onChange={() => setUseAll(true)} />
                    {t('allTrainingItems', { count: training.length })}
                  </label>
                  <label class="radio">
                    <input type="radio" name="item-choice" checked={!useAll} onChange={() => setUseAll(false)} />
                    {t('chooseItems')} <span class="muted small">({t('selectedCount', { count: picked.size })})</span>
                  </label>
                  {!useAll && (
                    <div class="item-picker">
                      <div class="filter-bar">
                        <input type="search" class="grow" placeholder={t('filterPlaceholder')} value={itemFilter} onInput={(e) => { setItemFilter(e.currentTarget.value); setPage(1); }} />
                        <button type="button" onClick={() => setPicked(new Set([...picked, ...filteredItems.map((i) => i.item_id)]))}>{t('selectAll')}</button>
                        <button type="button" onClick={() => setPicked(new Set())}>{t('selectNone')}</button>
                      </div>
                      <ul class="pick-list">
                        {shown.rows.map((item) => (
                          <li key={item.item_id}>
                            <label class="checkbox">
                              <input type="checkbox" checked={picked.has(item.item_id)} onChange={() => toggle(item.item_id)} />
                              <span class="ellipsis" title={item.item_id}>{item.item_id}</span>
                              <VerdictBadge verdict={verdictOf(item)} />
                            </label>
                          </li>
                        ))}
                      </ul>
                      <Pager page={shown.page} pages={shown.pages} onPage={setPage} />
                    </div>
                  )}
                </>
              )}
              <div class="actions">
                <button
                  type="submit"
                  class="button-primary"
                  disabled={busy || hasProblems || training.length === 0 || (!useAll && picked.size === 0)}
                  data-testid="start-training"
                >
                  {busy ? t('starting') : t('startTraining')}
                </button>
              </div>
            </section>
          </div>
        </div>
      )}
    </form>
  );
}
