/* SPDX-License-Identifier: MIT */
/*
 * A self-contained interactive flame graph (SVG + a little JavaScript):
 * hover shows a frame's name, value and share; click zooms; Ctrl-F or
 * "Search" highlights frames matching a regular expression.  Frames narrower
 * than a pixel are left out, which keeps huge profiles small.
 *
 * With --diff BASE it is a differential flame graph: widths are the new
 * profile's, colours the change of each frame's share of its profile's
 * total (red grew, blue shrank, white unchanged), as flamegraph.pl draws
 * difffolded input.  Frames only the base has do not show.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

#define WIDTH 1200
#define PAD 10
#define ROW 16
#define TOP 36
#define BOTTOM 34

struct flame {
	const struct profile *pf;
	const struct profile *base;	/* --diff, else NULL */
	FILE *f;
	double scale;		/* px per unit of value */
	double max_delta;	/* --diff: the largest change of share, for colours */
	unsigned depth;
	unsigned height;
};

/* Name, then object (ld.so and the program both have a _start), then kind. */
static int cmp_frames(const struct profile *pa, const struct node *a, const struct profile *pb,
		      const struct node *b)
{
	const struct frame *x = profile__frame(pa, a->frame), *y = profile__frame(pb, b->frame);
	int c = strcmp(x->name, y->name);

	if (!c)
		c = strcmp(x->object, y->object);
	return c ? c : (int)x->kind - (int)y->kind;
}

static int cmp_node_name(const void *a, const void *b, void *pf)
{
	return cmp_frames(pf, *(struct node *const *)a, pf, *(struct node *const *)b);
}

/* Children in name order, as flame graphs conventionally are (cmp_frames). */
static void sort_children(struct node *n, const struct profile *pf)
{
	size_t k = 0, i = 0;
	struct node **v;

	for (struct node *c = n->child; c; c = c->next)
		k++;
	if (k > 1) {
		v = calloc(k, sizeof(*v));
		if (!v)
			oom();
		for (struct node *c = n->child; c; c = c->next)
			v[i++] = c;
		qsort_r(v, k, sizeof(*v), cmp_node_name, (void *)pf);
		for (i = 0; i + 1 < k; i++)
			v[i]->next = v[i + 1];
		v[k - 1]->next = NULL;
		n->child = v[0];
		free(v);
	}
	for (struct node *c = n->child; c; c = c->next)
		sort_children(c, pf);
}

/* The tree of a profile's paths, children in cmp_frames order. */
static struct node *build_tree(const struct profile *pf)
{
	struct node *root = node_new(UINT32_MAX);

	for (size_t i = 0; i < pf->n_paths; i++) {
		const struct path *p = &pf->paths[i];
		struct node *n = root;

		root->value += p->value;
		for (uint32_t j = 0; j < p->n; j++) {
			n = node_child(n, pf->ids[p->off + j]);
			n->value += p->value;
		}
	}
	sort_children(root, pf);
	return root;
}

/* Gives each node of the new tree the value of the same path in the base
 * tree: both have their children in cmp_frames order. */
static void pair(const struct profile *pf, struct node *n, const struct profile *bpf, const struct node *b)
{
	struct node *c = n->child;
	const struct node *d = b->child;

	n->base = b->value;
	while (c && d) {
		int k = cmp_frames(pf, c, bpf, d);

		if (k == 0)
			pair(pf, c, bpf, d);
		if (k <= 0)
			c = c->next;
		if (k >= 0)
			d = d->next;
	}
}

/* The change of a node's share of its profile's total, in points. */
static double delta(const struct flame *fl, const struct node *n)
{
	double now = fl->pf->total ? 100.0 * n->value / fl->pf->total : 0;
	double was = fl->base->total ? 100.0 * n->base / fl->base->total : 0;

	return now - was;
}

static double max_delta(const struct flame *fl, const struct node *n)
{
	double m = fabs(delta(fl, n));

	for (const struct node *c = n->child; c; c = c->next) {
		double cm = c->value * fl->scale >= 1.0 ? max_delta(fl, c) : 0;

		if (cm > m)
			m = cm;
	}
	return m;
}

/* The label that fits the box (about 7 px a character), cut between
 * characters, as the script fits it on zoom. */
static void put_label(FILE *f, const char *name, double w)
{
	int c = (int)((w - 6) / 7);
	char *clean, *t;
	size_t keep;

	if (c < 3)
		return;
	clean = text_clean(name);
	if (utf8_length(clean) <= (size_t)c) {
		put_xml_text(f, clean);
		free(clean);
		return;
	}
	keep = utf8_prefix(clean, c - 2);
	t = must_realloc(NULL, keep + 3);
	memcpy(t, clean, keep);
	memcpy(t + keep, "..", 3);
	put_xml_text(f, t);
	free(t);
	free(clean);
}

static void color(const struct frame *fr, char *buf, size_t len)
{
	uint64_t h = hash_string(fr->name, HASH_SEED);
	unsigned a = h % 1000, b = (h >> 16) % 1000;

	if (fr->kind == FRAME_ROOT)
		snprintf(buf, len, "rgb(%u,%u,230)", 170 + a % 40, 170 + b % 40);
	else if (fr->status != SYM_OK)
		snprintf(buf, len, "rgb(%u,%u,%u)", 180 + a % 30, 180 + a % 30, 180 + a % 30);
	else if (fr->kind == FRAME_KERNEL)
		snprintf(buf, len, "rgb(%u,%u,%u)", 220 + a % 35, 120 + b % 60, 30 + a % 30);
	else if (fr->kind == FRAME_INTERP)	/* green, as flamegraph.pl paints managed code */
		snprintf(buf, len, "rgb(%u,%u,%u)", 50 + a % 60, 180 + b % 50, 60 + a % 55);
	else
		snprintf(buf, len, "rgb(%u,%u,%u)", 205 + a % 50, b % 230, (a * 7) % 55);
}

static unsigned max_depth(const struct node *n, double scale)
{
	unsigned d = 0;

	for (const struct node *c = n->child; c; c = c->next) {
		if (c->value * scale < 1.0)
			continue;
		unsigned cd = 1 + max_depth(c, scale);

		if (cd > d)
			d = cd;
	}
	return d;
}

/* Red for a share that grew, blue for one that shrank, by how much. */
static void diff_color(const struct flame *fl, const struct node *n, char *buf, size_t len)
{
	double d = delta(fl, n), t = fl->max_delta > 0 ? fabs(d) / fl->max_delta : 0;
	unsigned v = 255 - (unsigned)(t * 200);

	if (d > 0)
		snprintf(buf, len, "rgb(255,%u,%u)", v, v);
	else
		snprintf(buf, len, "rgb(%u,%u,255)", v, v);
}

static void emit(struct flame *fl, const struct node *n, double x, unsigned level, const char *name_all)
{
	const struct profile *pf = fl->pf;
	const struct frame *fr = n->frame == UINT32_MAX ? NULL : profile__frame(pf, n->frame);
	double w = n->value * fl->scale, y = fl->height - BOTTOM - (level + 1) * ROW;
	double share = 100.0 * n->value / (pf->total ? pf->total : 1);
	uint64_t shown = profile__shown(pf, n->value);
	char fill[32];

	if (fl->base)
		diff_color(fl, n, fill, sizeof(fill));
	else
		color(fr ? fr : &(struct frame){ .name = "all", .kind = FRAME_ROOT }, fill, sizeof(fill));
	fputs("<g><title>", fl->f);
	put_xml_text(fl->f, fr ? fr->name : name_all);
	if (fr && fr->object[0] && (fr->kind == FRAME_USER || fr->kind == FRAME_INTERP)) {
		fputs(" [", fl->f);
		put_xml_text(fl->f, fr->object);
		fputs("]", fl->f);
	}
	if (fl->base)	/* one parenthesis: the script strips it to get the name */
		fprintf(fl->f, " (%llu %s, %.2f%%, was %.2f%%: %+.2f points)", (unsigned long long)shown,
			profile__unit(pf), share, share - delta(fl, n), delta(fl, n));
	else
		fprintf(fl->f, " (%llu %s, %.2f%%)", (unsigned long long)shown, profile__unit(pf), share);
	fprintf(fl->f, "</title><rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%d\" "
		"fill=\"%s\" rx=\"2\"/><text x=\"%.1f\" y=\"%.0f\">",
		x, y, w, ROW - 1, fill, x + 3, y + ROW - 4.5);
	put_label(fl->f, fr ? fr->name : name_all, w);
	fputs("</text></g>\n", fl->f);
	for (const struct node *c = n->child; c; c = c->next) {
		if (c->value * fl->scale >= 1.0)	/* narrower than a pixel: pruned */
			emit(fl, c, x, level + 1, name_all);
		x += c->value * fl->scale;
	}
}

static const char script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"'use strict';var W=%d,P=%d,fr=[],det,mt,zoomed=null;\n"
	"function init(){det=document.getElementById('details').firstChild;"
	"mt=document.getElementById('matched');\n"
	" for(const g of document.querySelectorAll('#frames > g')){const r=g.children[1];"
	"fr.push({g:g,r:r,t:g.children[2],x:+r.getAttribute('x'),w:+r.getAttribute('width'),"
	"y:+r.getAttribute('y'),n:g.firstChild.textContent.replace(/ \\([^()]*\\)$/,'')});}\n"
	" for(const f of fr){f.name=f.n.replace(/ \\[[^\\]]*\\]$/,'');"
	"f.g.onmouseover=()=>{det.nodeValue=f.g.firstChild.textContent};"
	"f.g.onmouseout=()=>{det.nodeValue=' '};f.g.onclick=()=>zoom(f);}\n"
	" document.getElementById('reset').onclick=()=>zoom(null);"
	"document.getElementById('search').onclick=search;\n"
	" window.addEventListener('keydown',e=>{if((e.ctrlKey||e.metaKey)&&e.key==='f'){e.preventDefault();search();}});"
	"layout();}\n"
	"function fit(f,x,w){f.r.setAttribute('x',x.toFixed(1));f.r.setAttribute('width',w.toFixed(1));"
	"f.t.setAttribute('x',(x+3).toFixed(1));const c=Math.floor((w-6)/7);"
	"const ch=Array.from(f.name);f.t.textContent=c<3?'':ch.length<=c?f.name:ch.slice(0,c-2).join('')+'..';}\n"
	"function layout(){for(const f of fr){f.g.style.display='';f.g.style.opacity='';fit(f,f.x,f.w);}}\n"
	"function zoom(z){zoomed=z;document.getElementById('reset').style.display=z?'':'none';"
	"if(!z){layout();return;}const k=(W-2*P)/z.w;\n"
	" for(const f of fr){const inside=f.x>=z.x-1e-6&&f.x+f.w<=z.x+z.w+1e-6;\n"
	"  if(f.y>z.y&&f.x<=z.x+1e-6&&f.x+f.w>=z.x+z.w-1e-6){f.g.style.display='';f.g.style.opacity='0.6';fit(f,P,W-2*P);}\n"
	"  else if(f.y<=z.y&&inside){f.g.style.display='';f.g.style.opacity='';fit(f,P+(f.x-z.x)*k,f.w*k);}\n"
	"  else f.g.style.display='none';}}\n"
	"function search(){const s=prompt('Search for (regular expression), empty to clear','');"
	"if(s===null)return;let re;try{re=new RegExp(s)}catch(e){alert(e);return;}\n"
	" const hit=[];for(const f of fr){const m=s!==''&&re.test(f.name);"
	"f.r.style.fill=m?'rgb(230,0,230)':'';if(m)hit.push(f);}\n"
	" hit.sort((a,b)=>a.x-b.x||b.w-a.w);let sum=0,end=-1;"
	"for(const f of hit){if(f.x>=end-1e-6){sum+=f.w;end=f.x+f.w;}}\n"
	" mt.textContent=s===''?'':'Matched: '+(100*sum/(W-2*P)).toFixed(1)+'%%';}\n"
	"]]></script>\n";

int out_flame(const struct profile *pf, const struct profile *base, const struct report_opts *o, FILE *f)
{
	struct node *root = build_tree(pf);
	struct flame fl = { .pf = pf, .base = base, .f = f };
	char all[96];

	fl.scale = root->value ? (double)(WIDTH - 2 * PAD) / root->value : 0;
	if (base) {
		struct node *broot = build_tree(base);

		/* The roots are the process names: "all" pairs with "all". */
		pair(pf, root, base, broot);
		node_free(broot);
		fl.max_delta = max_delta(&fl, root);
	}
	fl.depth = root->value ? max_depth(root, fl.scale) + 1 : 1;
	fl.height = TOP + BOTTOM + fl.depth * ROW;
	snprintf(all, sizeof(all), "all");
	fprintf(f, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%u\" viewBox=\"0 0 %d %u\" "
		"xmlns=\"http://www.w3.org/2000/svg\" onload=\"init()\">\n"
		"<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}"
		"#frames g{cursor:pointer}#frames g:hover rect{stroke:#000;stroke-width:0.5}"
		"#search,#reset{cursor:pointer}</style>\n",
		WIDTH, fl.height, WIDTH, fl.height);
	fprintf(f, script, WIDTH, PAD);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f4\"/>\n"
		"<text x=\"%d\" y=\"24\" text-anchor=\"middle\" style=\"font-size:17px\">", WIDTH / 2);
	if (o->title)
		put_xml_text(f, o->title);
	else if (base)
		fprintf(f, "dfprof differential flame graph (%s): red grew, blue shrank, against ",
			profile__event_name(pf)), put_xml_text(f, o->diff);
	else
		fprintf(f, "%s (%s)", "dfprof flame graph", profile__event_name(pf));
	fprintf(f, "</text>\n<text id=\"reset\" x=\"%d\" y=\"24\" style=\"display:none\">Reset zoom</text>\n"
		"<text id=\"search\" x=\"%d\" y=\"24\">Search</text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%u\"> </text>\n"
		"<text id=\"matched\" x=\"%d\" y=\"%u\"></text>\n<g id=\"frames\">\n",
		PAD, WIDTH - 60 - PAD, PAD, fl.height - 12, WIDTH - 140 - PAD, fl.height - 12);
	if (root->value)
		emit(&fl, root, PAD, 0, all);
	fputs("</g>\n</svg>\n", f);
	node_free(root);
	return ferror(f) ? -1 : 0;
}
